//! `doorman data …`: the data keys through the admin API (DOORMAN_ADMIN_URL,
//! DOORMAN_ADMIN_TOKEN, the operator's).

use clap::Subcommand;

use super::Failure;

/// What `doorman data` does.
#[derive(Debug, Subcommand)]
pub enum DataAction {
    /// Show the ids of the data keys the node holds and of those the store lists.
    Keys,
    /// Seal every record with personal data again with the current key, page by page, after a
    /// rotation; at the end, the keys the store lists no more may be dropped.
    Reseal,
}

pub(super) fn data_cmd(action: DataAction) -> Result<(), Failure> {
    let (client, runtime) = super::admin_client()?;
    let fail = super::client_failure;
    match action {
        DataAction::Keys => {
            let answer =
                runtime.block_on(client.call(http::Method::GET, "/v1/data/keys", None)).map_err(fail)?;
            println!("{}", serde_json::to_string_pretty(&answer).unwrap_or_default());
            Ok(())
        }
        DataAction::Reseal => {
            let (mut resealed, mut current, mut cursor) = (0u64, 0u64, String::new());
            loop {
                let body = serde_json::json!({ "cursor": cursor });
                let page = runtime
                    .block_on(client.call(http::Method::POST, "/v1/data/reseal", Some(body)))
                    .map_err(fail)?;
                let count = |field: &str| page[field].as_u64().unwrap_or(0);
                resealed += count("resealed");
                current += count("current");
                match page["next"].as_str() {
                    Some(next) => cursor = next.to_owned(),
                    None => {
                        let retired: Vec<&str> = page["retired"]
                            .as_array()
                            .map(|a| a.iter().filter_map(|k| k.as_str()).collect())
                            .unwrap_or_default();
                        println!("re-sealed {resealed} records; {current} were sealed with the current key already");
                        let left = count("left");
                        if left > 0 {
                            return Err(Failure::Runtime(format!(
                                "{left} records are left sealed with other keys (a key this node lacks, or \
                                 changed by a node still sealing with another key): no key was retired"
                            )));
                        }
                        match retired.as_slice() {
                            [] => println!("no key to retire"),
                            keys => {
                                println!("retired {}: drop it from every node's data keys", keys.join(", "))
                            }
                        }
                        return Ok(());
                    }
                }
            }
        }
    }
}
