# compat_ruby.rb HOST PORT CAFILE — one HTTPS GET with ruby's net/http (the
# openssl extension). Prints "OK <status> <bytes>" and exits 0, or
# "FAILED <exception class>: <message>" and exits 1.
require 'net/http'
require 'openssl'

host, port, ca = ARGV[0], ARGV[1].to_i, ARGV[2]
begin
  http = Net::HTTP.new(host, port)
  http.use_ssl = true
  http.verify_mode = OpenSSL::SSL::VERIFY_PEER
  http.ca_file = ca
  http.open_timeout = 10
  http.read_timeout = 10
  res = http.request(Net::HTTP::Get.new('/', 'X-Probe' => 'tlspin-compat-probe'))
  puts "OK #{res.code} #{res.body.to_s.length}"
rescue StandardError => e
  puts "FAILED #{e.class}: #{e.message}"
  exit 1
end
