# The physical attacker's view through the DIMM probe: the kernel's page tables (written
# through KeyID 0) are ciphertext under TME; raw writes land in the DIMM as they are and
# survive a warm reboot; unbacked addresses and bad arguments are refused.
# args: --seed 5 --nodes 1 --cpus 1 --nvram 0 --append quiet
sync
dimm read 0x1400000 32
dimm write 0x2000000 48656c6c6f2c20444994d
dimm write 0x2000000 48656c6c6f2c2044494d4d
dimm read 0x2000000 16
reboot
dimm read 0x2000000 16
dimm read 0x7ffffff0 32
dimm
poweroff
echo not reached
