#!/usr/bin/perl
# compat_perl.pl MODE HOST PORT CAFILE — one HTTPS GET with perl's own
# client modules. MODE: io-socket-ssl (IO::Socket::SSL, by hand) | lwp
# (LWP::UserAgent with LWP::Protocol::https). The host name is resolved by
# the system. Prints "OK <status> <bytes>" and exits 0, or "FAILED <the
# module's error text>" and exits 1.
use strict;
use warnings;

my ($mode, $host, $port, $ca) = @ARGV;
my $marker = 'tlspin-compat-probe';

if ($mode eq 'io-socket-ssl') {
    require IO::Socket::SSL;
    no warnings 'once';
    my $s = IO::Socket::SSL->new(
        PeerHost => $host, PeerPort => $port, Timeout => 10,
        SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_PEER(),
        SSL_verifycn_scheme => 'http', SSL_ca_file => $ca)
      or do { print "FAILED $IO::Socket::SSL::SSL_ERROR\n"; exit 1 };
    print $s "GET / HTTP/1.0\r\nHost: $host\r\nX-Probe: $marker\r\n\r\n";
    my $data = '';
    while (my $l = <$s>) { $data .= $l }
    my ($status) = $data =~ m{^HTTP/\S+ (\d+)};
    print 'OK ', ($status // '?'), ' ', length($data), "\n";
    exit 0;
}
if ($mode eq 'lwp') {
    require LWP::UserAgent;
    my $ua = LWP::UserAgent->new(timeout => 10,
        ssl_opts => { SSL_ca_file => $ca, verify_hostname => 1 });
    my $r = $ua->get("https://$host:$port/", 'X-Probe' => $marker);
    if ($r->is_success) {
        print 'OK ', $r->code, ' ', length($r->content), "\n";
        exit 0;
    }
    # LWP turns a failed connection into a 500 response of its own making.
    print 'FAILED ', $r->status_line, "\n";
    exit 1;
}
die "unknown mode $mode\n";
