/**
 * VFIO's user-space API (Linux include/uapi/linux/vfio.h; Documentation/driver-api/
 * vfio.rst): the container (/dev/vfio/vfio), group (/dev/vfio/GROUP) and device file
 * descriptors, their ioctls and structures. As for KVM, an ioctl argument is a typed
 * object standing in for the user pointer; `argsz` is checked as Linux checks it
 * (at least the structure's minimum size, else -EINVAL).
 */
export const VFIO_API_VERSION = 0;
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_TYPE1v2_IOMMU = 3;

const VFIO_TYPE = 0x3b; // ';'
const VFIO_BASE = 100;
const _IO = (n: number): number => (VFIO_TYPE << 8) | (VFIO_BASE + n);

export const VFIO_GET_API_VERSION = _IO(0);
export const VFIO_CHECK_EXTENSION = _IO(1);
export const VFIO_SET_IOMMU = _IO(2);
export const VFIO_GROUP_GET_STATUS = _IO(3);
export const VFIO_GROUP_SET_CONTAINER = _IO(4);
export const VFIO_GROUP_UNSET_CONTAINER = _IO(5);
export const VFIO_GROUP_GET_DEVICE_FD = _IO(6);
export const VFIO_DEVICE_GET_INFO = _IO(7);
export const VFIO_DEVICE_GET_REGION_INFO = _IO(8);
export const VFIO_IOMMU_MAP_DMA = _IO(13);
export const VFIO_IOMMU_UNMAP_DMA = _IO(14);

export const VFIO_GROUP_FLAGS_VIABLE = 1 << 0;
export const VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1;
export interface vfio_group_status { argsz: number; flags: number }

export const VFIO_DEVICE_FLAGS_PCI = 1 << 1;
export interface vfio_device_info { argsz: number; flags: number; num_regions: number; num_irqs: number }

export const VFIO_REGION_INFO_FLAG_READ = 1 << 0;
export const VFIO_REGION_INFO_FLAG_WRITE = 1 << 1;
export interface vfio_region_info { argsz: number; flags: number; index: number; size: number; offset: number }

/* vfio-pci's regions and interrupts (enum in vfio.h). */
export const VFIO_PCI_BAR0_REGION_INDEX = 0;
export const VFIO_PCI_BAR5_REGION_INDEX = 5;
export const VFIO_PCI_ROM_REGION_INDEX = 6;
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_NUM_REGIONS = 9;
export const VFIO_PCI_NUM_IRQS = 5;

export const VFIO_DMA_MAP_FLAG_READ = 1 << 0;
export const VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;
export interface vfio_iommu_type1_dma_map { argsz: number; flags: number; vaddr: number; iova: number; size: number }
export interface vfio_iommu_type1_dma_unmap { argsz: number; flags: number; iova: number; size: number }
export const VFIO_DMA_MAP_SIZE = 32;
export const VFIO_DMA_UNMAP_SIZE = 24;
