# DMA through a VT-d IOMMU whose tables carry KeyIDs (issue 10). The disk reads
# straight into a process page encrypted under a type=user key: the process sees the
# disk's plaintext, the DIMM holds ciphertext, and the IOMMU blocks the stray
# DMAs the fault-injection knob makes the device emit, with Linux's DMAR messages.
# args: --seed 3 --append quiet
lspci
lspci -nn
lspci -v -s 00:03.0
cat /sys/kernel/iommu_groups/1/type
ls /sys/kernel/iommu_groups/1/devices
cat /sys/block/vda/size
k=$(keyctl add mktme disk 'type=user algorithm=aes-xts-128 key=00112233445566778899aabbccddeeff tweak=f0e1d2c3b4a5968778695a4b3c2d1e0f' @u)
a=$(mmap 8K)
# the second page of the mapping receives what the disk reads
b=$(printf '0x%x' $((a + 4096)))
encrypt_mprotect $a 8K rw $k
write $a 'a record for the disk'
blk write 8 $a 512
blk read 8 512 $b
read $b 21
pagemap $b
# the device wrote the page under KeyID 1: after write-back the DIMM holds ciphertext
# (tests/drivers/dma.test.ts checks it is exactly AES-XTS under this key)
pfn=$(pagemap $b | grep -o 'pfn=0x[0-9a-f]*' | cut -d= -f2)
sync
dimm read $(printf '0x%x' $((pfn * 4096))) 32
blk inject unmapped
blk read 8 512 $b
blk inject readonly
blk read 8 512 $b
# the driver reset the device; the disk works again
blk read 8 512 $b
read $b 21
blk read 32767 1024 $b
blk read 0 100 $b
su 1000
blk read 0 512 $b
