# The physical attacker's view through the DIMM probe: the kernel's page tables (written
# through KeyID 0) are ciphertext under TME; raw writes land in the DIMM as they are and
# survive a warm reboot; unbacked addresses and bad arguments are refused.
# args: --seed 5 --nodes 1 --cpus 1 --nvram 0 --append quiet
sync
# the early page tables sit right after the kernel image: the end of "Kernel bss" + 1
bss_end=$(grep 'Kernel bss' /proc/iomem | cut -d- -f2 | cut -d' ' -f1)
pt=$(printf '0x%x' $((0x$bss_end + 1)))
dimm read $pt 32
dimm write 0x2000000 48656c6c6f2c20444994d
dimm write 0x2000000 48656c6c6f2c2044494d4d
dimm read 0x2000000 16
reboot
dimm read 0x2000000 16
dimm read 0x7ffffff0 32
dimm
poweroff
echo not reached
