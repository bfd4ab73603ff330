# Programming KeyIDs on both packages with the kernel's PCONFIG wrapper, the failures
# it turns into errno values, and the machine counters.
# args: --seed 3 --append quiet
stat --reset
pconfig 1 set-key-direct aes-xts-128 000102030405060708090a0b0c0d0e0f f0e0d0c0b0a090807060504030201000
pconfig 2 set-key-random aes-xts-256
pconfig 3 set-key-random aes-xts-128 0011 2233
pconfig 4 no-encrypt aes-xts-128
pconfig 1 clear-key aes-xts-128
pconfig 0 clear-key aes-xts-128
pconfig 64 set-key-random aes-xts-128
pconfig 1 set-key-direct aes-xts-128 00
pconfig 1 set-key-direct aes-xts-128 nothex 00
stat
