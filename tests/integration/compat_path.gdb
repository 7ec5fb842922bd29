# compat_path.gdb — which libssl entry point starts a program's client
# handshake (tests/integration/test_compat.c). Every entry point prints its
# name, the stack pointer and the return address at entry (a tail call from
# SSL_connect into SSL_do_handshake shows the same pair); the first
# X509_verify_cert (libssl verifying the server's chain) ends the trace.
# Used with `-ex run --args PROGRAM...` or with `-p PID -ex continue`.
set pagination off
set confirm off
set breakpoint pending on
set print thread-events off
set print inferior-events off
set startup-with-shell off
break SSL_connect
commands
silent
printf "TLSPIN-ENTRY SSL_connect %lx %lx\n", $sp, *(unsigned long *)$sp
continue
end
break SSL_do_handshake
commands
silent
printf "TLSPIN-ENTRY SSL_do_handshake %lx %lx\n", $sp, *(unsigned long *)$sp
continue
end
break SSL_read
commands
silent
printf "TLSPIN-ENTRY SSL_read %lx %lx\n", $sp, *(unsigned long *)$sp
continue
end
break SSL_read_ex
commands
silent
printf "TLSPIN-ENTRY SSL_read_ex %lx %lx\n", $sp, *(unsigned long *)$sp
continue
end
break SSL_peek
commands
silent
printf "TLSPIN-ENTRY SSL_peek %lx %lx\n", $sp, *(unsigned long *)$sp
continue
end
break SSL_peek_ex
commands
silent
printf "TLSPIN-ENTRY SSL_peek_ex %lx %lx\n", $sp, *(unsigned long *)$sp
continue
end
break SSL_write
commands
silent
printf "TLSPIN-ENTRY SSL_write %lx %lx\n", $sp, *(unsigned long *)$sp
continue
end
break SSL_write_ex
commands
silent
printf "TLSPIN-ENTRY SSL_write_ex %lx %lx\n", $sp, *(unsigned long *)$sp
continue
end
break X509_verify_cert
commands
silent
printf "TLSPIN-VERIFY\n"
delete
continue
end
