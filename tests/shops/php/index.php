<?php
// A small PHP ticket shop as many are written: one front controller behind PHP's built-in server
// with PHP's compiled-in defaults (`php -n -d variables_order=EGPCS -S 127.0.0.1:$PORT index.php`;
// request_order left unset, so $_REQUEST is GET, POST and cookies, the later winning; note that
// `-d request_order=` would set it to "" and leave $_REQUEST empty). It routes with preg_match on
// the decoded path (past the front controller's name, as Symfony and Laravel do) and reads the
// buyer from $_REQUEST, falling back to a JSON body whatever its
// Content-Type. The account comes from an HS256 JWT in the `shop_session` cookie.
// Env: PORT, SESSION_KEY, optional ORDERS_FILE.

function b64url_decode(string $s): string|false
{
    return base64_decode(strtr($s, '-_', '+/'));
}

// The account of a valid session cookie, or null.
function session_account(): ?string
{
    $token = $_COOKIE['shop_session'] ?? null;
    if (!is_string($token) || count($parts = explode('.', $token)) !== 3) {
        return null;
    }
    [$header, $payload, $signature] = $parts;
    $head = json_decode((string) b64url_decode($header), true);
    if (($head['alg'] ?? null) !== 'HS256') {
        return null;
    }
    $expected = hash_hmac('sha256', "$header.$payload", (string) getenv('SESSION_KEY'), true);
    if (!hash_equals($expected, (string) b64url_decode($signature))) {
        return null;
    }
    $claims = json_decode((string) b64url_decode($payload), true);
    if (($claims['iss'] ?? null) !== 'demo-shop' || !is_string($claims['sub'] ?? null)) {
        return null;
    }
    return $claims['sub'];
}

// The next order number, kept in a file: each request of php -S is a fresh script.
function next_order_number(): int
{
    $file = (getenv('ORDERS_FILE') ?: sys_get_temp_dir() . '/php-shop-' . getenv('PORT')) . '.seq';
    $fp = fopen($file, 'c+');
    flock($fp, LOCK_EX);
    $n = (int) stream_get_contents($fp) + 1;
    ftruncate($fp, 0);
    rewind($fp);
    fwrite($fp, (string) $n);
    flock($fp, LOCK_UN);
    fclose($fp);
    return $n;
}

function checkout(string $event): void
{
    $json = json_decode(file_get_contents('php://input'), true);
    $email = $_REQUEST['email'] ?? $_REQUEST['customer']['email']
        ?? $json['email'] ?? $json['customer']['email'] ?? null;
    $tickets = $_REQUEST['tickets'] ?? $json['tickets'] ?? null;
    $order = [
        'order' => next_order_number(),
        'event' => $event,
        'account' => session_account(),
        'email' => is_string($email) ? $email : null,
        'tickets' => is_string($tickets) ? $tickets : null,
    ];
    $line = json_encode($order, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE);
    if ($file = getenv('ORDERS_FILE')) {
        file_put_contents($file, $line . "\n", FILE_APPEND | LOCK_EX);
    }
    header('Content-Type: application/json');
    echo $line;
}

$path = rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/');
// The front controller's own name may stand before the route, as in Symfony's and Laravel's
// Request::getPathInfo: /index.php/events/x/checkout is /events/x/checkout.
$script = $_SERVER['SCRIPT_NAME'];
if (str_starts_with($path, $script . '/')) {
    $path = substr($path, strlen($script));
}
$method = $_SERVER['REQUEST_METHOD'];

if ($method === 'GET' && $path === '/health') {
    header('Content-Type: text/plain');
    echo 'ok';
} elseif ($method === 'GET' && preg_match('#^/events/([^/]+)$#', $path, $m)) {
    $page = file_get_contents(__DIR__ . '/../event.html');
    echo str_replace('{event}', htmlspecialchars($m[1]), $page);
} elseif ($method === 'POST' && preg_match('#^/events/([^/]+)/checkout$#', $path, $m)) {
    checkout($m[1]);
} else {
    http_response_code(404);
    echo 'Not found';
}
