/**
 * VT-d register offsets, bits and table formats (Intel Virtualization Technology for
 * Directed I/O Architecture Specification, ch. 9 "Translation Structure Formats" and
 * ch. 11 "Register Descriptions"; names as Linux's include/linux/intel-iommu.h /
 * drivers/iommu/intel/iommu.h spell them). Shared by the machine's remapping unit and
 * nothing else: the kernel keeps its own copy of the constants, as Linux does.
 */

// --- registers (byte offsets in the 4 KiB register page) ---------------------------
export const DMAR_VER_REG = 0x00;
export const DMAR_CAP_REG = 0x08;
export const DMAR_ECAP_REG = 0x10;
export const DMAR_GCMD_REG = 0x18;
export const DMAR_GSTS_REG = 0x1c;
export const DMAR_RTADDR_REG = 0x20;
export const DMAR_CCMD_REG = 0x28;
export const DMAR_FSTS_REG = 0x34;
export const DMAR_FECTL_REG = 0x38;
export const DMAR_FEDATA_REG = 0x3c;
export const DMAR_FEADDR_REG = 0x40;
export const DMAR_FEUADDR_REG = 0x44;
/** IOTLB registers at ECAP.IRO * 16: IVA_REG, then IOTLB_REG 8 bytes later. */
export const IOTLB_OFFSET = 0x100;
/** Fault recording registers at CAP.FRO * 16, 16 bytes each. */
export const FRCD_OFFSET = 0x200;
export const NUM_FRCD = 4;
export const PRIMARY_FAULT_REG_LEN = 16;

// GCMD / GSTS (same bit positions)
export const DMA_GCMD_TE = 0x8000_0000;
export const DMA_GCMD_SRTP = 0x4000_0000;
export const DMA_GSTS_TES = 0x8000_0000;
export const DMA_GSTS_RTPS = 0x4000_0000;

// CCMD (upper dword: bits 63..32 -> 31..0)
export const DMA_CCMD_ICC_HI = 0x8000_0000;       // bit 63
export const DMA_CCMD_CIRG_SHIFT_HI = 29;        // bits 62:61
export const DMA_CCMD_CAIG_SHIFT_HI = 27;        // bits 60:59
export const CCMD_GLOBAL = 1, CCMD_DOMAIN = 2, CCMD_DEVICE = 3;

// IOTLB_REG (upper dword)
export const DMA_TLB_IVT_HI = 0x8000_0000;       // bit 63
export const DMA_TLB_IIRG_SHIFT_HI = 28;         // bits 61:60
export const DMA_TLB_IAIG_SHIFT_HI = 25;         // bits 58:57
export const TLB_GLOBAL = 1, TLB_DOMAIN = 2, TLB_PAGE = 3;
export const DMA_TLB_DID_SHIFT_HI = 0;           // bits 47:32 -> 15:0

// FSTS / FECTL
export const DMA_FSTS_PFO = 1 << 0;
export const DMA_FSTS_PPF = 1 << 1;
export const DMA_FECTL_IM = 0x8000_0000;
export const DMA_FECTL_IP = 0x4000_0000;
// fault record, dword at +12
export const DMA_FRCD_F = 0x8000_0000;
export const DMA_FRCD_T = 1 << 30; // 1: read request, 0: write

// --- capabilities this unit reports ------------------------------------------------
/** CAP.ND = 2: 2^(4 + 2*2) = 256 domain ids. */
export const CAP_ND = 2;
export const NUM_DOMAINS = 256;
/** SAGAW bit 2 (48-bit, 4-level tables) only. */
export const SAGAW_48 = 1 << 2;
export const AGAW_48 = 2; // context AW value for 48-bit
export const MGAW = 48;
export const CAP_SLLPS_2M = 1, CAP_SLLPS_1G = 2;
export const CAP_MAMV = 9;

// --- table entries -----------------------------------------------------------------
export const DMA_PTE_READ = 1 << 0;
export const DMA_PTE_WRITE = 1 << 1;
export const DMA_PTE_LARGE_PAGE = 1 << 7;
export const DMA_PTE_SNP = 1 << 11;
export const CONTEXT_TT_MULTI_LEVEL = 0;
export const CONTEXT_TT_DEV_IOTLB = 1;
export const CONTEXT_TT_PASS_THROUGH = 2;

/** Fault reasons (VT-d spec appendix A "Non-Recoverable Fault Reasons", legacy mode). */
export const FR_ROOT_NOT_PRESENT = 0x1;
export const FR_CONTEXT_NOT_PRESENT = 0x2;
export const FR_CONTEXT_INVALID = 0x3;
export const FR_BEYOND_MGAW = 0x4;
export const FR_PTE_WRITE = 0x5;
export const FR_PTE_READ = 0x6;
export const FR_NEXT_PT_INVALID = 0x7;
export const FR_ROOT_ADDR_INVALID = 0x8;
export const FR_CONTEXT_PTR_INVALID = 0x9;
export const FR_RTP_RESERVED = 0xa;
export const FR_CTP_RESERVED = 0xb;
export const FR_PTE_RESERVED = 0xc;
