<?php
// compat_php.php HOST PORT CAFILE — one HTTPS GET with file_get_contents()
// and an ssl stream context (cafile, peer_name). Prints "OK <bytes>" and
// exits 0, or "FAILED " and every warning PHP raised, joined on one line,
// and exits 1.
[$_, $host, $port, $ca] = $argv;
$errors = [];
set_error_handler(function ($no, $str) use (&$errors) {
    $errors[] = str_replace("\n", ' ', trim($str));
    return true;
});
$ctx = stream_context_create([
    'ssl' => ['cafile' => $ca, 'peer_name' => $host,
              'verify_peer' => true, 'verify_peer_name' => true],
    'http' => ['header' => "X-Probe: tlspin-compat-probe\r\n", 'timeout' => 10],
]);
$body = file_get_contents("https://$host:$port/", false, $ctx);
if ($body === false) {
    echo 'FAILED ', implode(' | ', $errors), "\n";
    exit(1);
}
echo 'OK ', strlen($body), "\n";
