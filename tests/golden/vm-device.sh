# A PCI device assigned to a VM (VFIO-style): the host's virtio-blk driver lets go of
# 00:03.0, the device gets an IOMMU domain of its own that maps VM2's RAM at
# IOVA = GPA, each leaf with the KeyID KVM's EPT uses for that page. The guest (this
# kernel) finds the disk through the MCFG/ECAM the VMM emulates, and its own virtio-blk
# driver DMAs into guest-private memory at guest-physical addresses: plaintext to the
# guest and the disk, AES-XTS under VM2's key in DRAM.
# args: --seed 7 --append quiet
k1=$(keyctl add mktme vm1 'type=cpu algorithm=aes-xts-128' @u)
k2=$(keyctl add mktme vm2 'type=cpu algorithm=aes-xts-128' @u)
vm create vm1 --mem 16M --key $k1
# the VMM binds 00:03.0 to vfio-pci, then uses /dev/vfio/vfio (the container) and
# /dev/vfio/1 (the device's IOMMU group) as QEMU does
vm create vm2 --mem 16M --key $k2 --device 00:03.0
dmesg | tail -2
lspci -v -s 00:03.0
blk list
# inside VM2: the guest's own PCI enumeration and driver
vm exec vm2 'lspci; dmesg | grep -e PCI -e pci -e vda'
vm exec vm2 'lspci -v -s 00:03.0'
# the console's shell keeps its process (and so the page) alive; $(...) would be the host's
vm console vm2
mmap 8K
write 0x7effffffe000 'a record from VM2'
blk write 8 0x7effffffe000 512
blk read 8 512 0x7efffffff000
read 0x7efffffff000 17
pagemap 0x7efffffff000
~.
# the guest page's EPT leaf: the host frame under VM2's KeyID, the frame the IOMMU
# leaf names too (tests/kvm/vfio_vm.test.ts checks every leaf, and DRAM byte for byte)
vm ept vm2 0x110000
sync
dimm read 0x$(vm ept vm2 0x110000 | grep -o 'hpa=0x[0-9a-f]*' | cut -dx -f2) 32
# VM1 has no device; the device cannot reach VM1: its domain maps VM2's RAM only
# (tests/kvm/vfio_vm.test.ts points it at VM1's frame: a DMAR fault)
vm list
# destroy: the container's release unmaps and unpins, the host driver takes the disk back
vm destroy vm2
dmesg | tail -2
blk list
vm create vm3 --mem 16M --device 00:03.0
vm exec vm3 'blk read 8 512 $(mmap 4K)'
