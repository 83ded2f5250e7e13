//! `spin.toml` as Spin reads it. No Spin CLI installs on these machines, so the rules Spin's
//! manifest loader applies (`crates/manifest/src/schema/v2.rs`, `crates/serde/src/id.rs`,
//! `crates/loader/src/local.rs`, `crates/outbound-networking-config/src/allowed_hosts.rs`) are
//! checked here, together with what the component itself needs: the variables it reads, the
//! store it opens, the file it is built to.

use std::collections::BTreeSet;

fn manifest() -> toml::Table {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/spin.toml")).unwrap();
    text.parse().expect("spin.toml is TOML")
}

/// Spin's `KebabId`: `-`-separated words of lowercase letters and digits, each starting with a letter.
fn kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|w| {
            w.starts_with(|c: char| c.is_ascii_lowercase())
                && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Spin's `LowerSnakeId`, the same with `_`.
fn snake(id: &str) -> bool {
    kebab(&id.replace('_', "-")) && !id.contains('-')
}

fn keys(t: &toml::Value) -> BTreeSet<&str> {
    t.as_table().unwrap().keys().map(String::as_str).collect()
}

/// The `{{ name }}` references of a template.
fn references(template: &str) -> Vec<String> {
    template.split("{{").skip(1).map(|s| s.split("}}").next().unwrap().trim().to_owned()).collect()
}

#[test]
fn spin_toml_is_a_manifest_spin_accepts_for_this_component() {
    let m = manifest();
    assert_eq!(m["spin_manifest_version"].as_integer(), Some(2));
    let allowed: BTreeSet<&str> =
        ["spin_manifest_version", "application", "variables", "trigger", "component"].into();
    assert!(
        m.keys().all(|k| allowed.contains(k.as_str())),
        "unknown top-level tables: {:?}",
        m.keys().collect::<Vec<_>>()
    );
    assert!(m["application"]["name"].is_str());

    // App variables: lower snake ids, each with exactly one of `required = true` or `default`.
    let variables = m["variables"].as_table().unwrap();
    for (name, decl) in variables {
        assert!(snake(name), "variable `{name}` is not a LowerSnakeId");
        let d = decl.as_table().unwrap();
        assert!(d.keys().all(|k| ["description", "required", "default", "secret"].contains(&k.as_str())));
        let required = d.get("required").and_then(|v| v.as_bool()) == Some(true);
        assert!(required ^ d.contains_key("default"), "variable `{name}`: exactly one of required/default");
    }

    // One HTTP trigger, a wildcard route to the one component.
    let triggers = m["trigger"]["http"].as_array().unwrap();
    assert_eq!(triggers.len(), 1);
    assert!(keys(&triggers[0]).is_subset(&["route", "component", "executor"].into()));
    assert_eq!(triggers[0]["route"].as_str(), Some("/..."));
    let id = triggers[0]["component"].as_str().unwrap();
    assert!(kebab(id), "component id `{id}` is not a KebabId");

    let c = &m["component"][id];
    let fields: BTreeSet<&str> = [
        "source",
        "description",
        "variables",
        "environment",
        "files",
        "exclude_files",
        "allowed_outbound_hosts",
        "key_value_stores",
        "sqlite_databases",
        "ai_models",
        "targets",
        "build",
        "tool",
        "dependencies_inherit_configuration",
        "dependencies",
    ]
    .into();
    assert!(keys(c).is_subset(&fields), "unknown component fields: {:?}", keys(c));
    assert_eq!(
        c["source"].as_str(),
        Some("target/wasm32-wasip2/edge/doorman_edge.wasm"),
        "the file the build command produces and tests/edge hosts"
    );
    assert_eq!(
        crate::host::component_path(),
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(c["source"].as_str().unwrap())
    );
    assert_eq!(c["key_value_stores"].as_array().unwrap(), &vec![toml::Value::from("default")]);

    // Component variables: templates over declared app variables; they include every name the
    // component reads besides policy overrides.
    let component_vars = c["variables"].as_table().unwrap();
    for (name, template) in component_vars {
        assert!(snake(name));
        for r in references(template.as_str().unwrap()) {
            assert!(variables.contains_key(&r), "`{name}` refers to undeclared `{r}`");
        }
    }
    // Every variable the component reads is declared at both levels, as the table says: Spin
    // hands a component only the variables its manifest grants it.
    use doorman::core::policy::edge::EDGE_VARIABLES;
    for v in EDGE_VARIABLES {
        let decl = variables.get(v.name).unwrap_or_else(|| panic!("`{}` is not declared", v.name));
        assert_eq!(
            decl.get("required").and_then(|r| r.as_bool()) == Some(true),
            v.required,
            "`{}` required",
            v.name
        );
        assert_eq!(
            decl.get("secret").and_then(|r| r.as_bool()) == Some(true),
            v.secret,
            "`{}` secret",
            v.name
        );
        let granted = component_vars.get(v.name).and_then(|t| t.as_str());
        assert_eq!(
            granted,
            Some(format!("{{{{ {} }}}}", v.name).as_str()),
            "`{}` is granted to the component",
            v.name
        );
    }
    for name in variables.keys() {
        assert!(EDGE_VARIABLES.iter().any(|v| v.name == name), "`{name}` is declared but read by nobody");
    }

    // allowed_outbound_hosts: a template over an app variable; resolved, scheme://host[:port].
    let hosts = c["allowed_outbound_hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1);
    let refs = references(hosts[0].as_str().unwrap());
    assert_eq!(refs, ["backend_url"], "the outbound host comes from a variable, not the manifest");
    assert!(variables.contains_key("backend_url"));

    // The build command is what .ci/run runs, and it names the profile and target of `source`.
    let command = c["build"]["command"].as_str().unwrap();
    assert_eq!(command, "cargo build -p doorman-edge --target wasm32-wasip2 --profile edge");
    assert!(keys(&c["build"]).is_subset(&["command", "workdir", "watch"].into()));
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(ci.contains("spin.toml"), ".ci/run builds the component with spin.toml's command");
}

#[test]
fn the_id_rules_are_spins() {
    assert!(kebab("doorman") && kebab("edge-proxy2") && !kebab("my_api") && !kebab("2x") && !kebab(""));
    assert!(snake("backend_url") && snake("api_v2") && !snake("key_1") && !snake("Policy") && !snake("a-b"));
    assert_eq!(references("{{ backend_url }}"), ["backend_url"]);
}

/// The README's table of the component's variables lists each of them, and nothing else.
#[test]
fn the_readmes_table_of_edge_variables_is_the_components() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("## At the edge (Spin)").nth(1).expect("the README's edge section");
    let table: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with("| variable |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.split('`').nth(1).unwrap())
        .collect();
    let names: Vec<&str> = doorman::core::policy::edge::EDGE_VARIABLES.iter().map(|v| v.name).collect();
    assert_eq!(table, names, "README.md, \"At the edge (Spin)\": one row per variable, in the table's order");
}

/// `spin-runtime.toml` puts the store the component opens on Redis, as the README says.
#[test]
fn the_runtime_config_puts_the_components_store_on_redis() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/spin-runtime.toml")).unwrap();
    let config: toml::Table = text.parse().expect("spin-runtime.toml is TOML");
    let stores = config["key_value_store"].as_table().unwrap();
    let declared = manifest()["component"]["doorman"]["key_value_stores"].clone();
    for label in declared.as_array().unwrap() {
        let store = &stores[label.as_str().unwrap()];
        assert_eq!(store["type"].as_str(), Some("redis"), "{label:?}: the Redis native Doorman uses");
        let url = store["url"].as_str().unwrap();
        assert!(url.starts_with("redis://") || url.starts_with("rediss://"), "{url}");
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains("spin up --runtime-config-file spin-runtime.toml"));
}
