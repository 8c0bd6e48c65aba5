/* SPDX-License-Identifier: MIT */
/* Names of layers, record types and page types, for messages and tools. */
#include <rvmig/stream.h>

static const char *const libxl_names[RVMIG_LIBXL_REC_NTYPES] = {
	[RVMIG_LIBXL_REC_END] = "END",
	[RVMIG_LIBXL_REC_LIBXC_CONTEXT] = "LIBXC_CONTEXT",
	[RVMIG_LIBXL_REC_EMULATOR_XENSTORE_DATA] = "EMULATOR_XENSTORE_DATA",
	[RVMIG_LIBXL_REC_EMULATOR_CONTEXT] = "EMULATOR_CONTEXT",
	[RVMIG_LIBXL_REC_CHECKPOINT_END] = "CHECKPOINT_END",
	[RVMIG_LIBXL_REC_CHECKPOINT_STATE] = "CHECKPOINT_STATE",
};

static const char *const libxc_names[RVMIG_LIBXC_REC_NTYPES] = {
	[RVMIG_LIBXC_REC_END] = "END",
	[RVMIG_LIBXC_REC_PAGE_DATA] = "PAGE_DATA",
	[RVMIG_LIBXC_REC_X86_PV_INFO] = "X86_PV_INFO",
	[RVMIG_LIBXC_REC_X86_PV_P2M_FRAMES] = "X86_PV_P2M_FRAMES",
	[RVMIG_LIBXC_REC_X86_PV_VCPU_BASIC] = "X86_PV_VCPU_BASIC",
	[RVMIG_LIBXC_REC_X86_PV_VCPU_EXTENDED] = "X86_PV_VCPU_EXTENDED",
	[RVMIG_LIBXC_REC_X86_PV_VCPU_XSAVE] = "X86_PV_VCPU_XSAVE",
	[RVMIG_LIBXC_REC_SHARED_INFO] = "SHARED_INFO",
	[RVMIG_LIBXC_REC_X86_TSC_INFO] = "X86_TSC_INFO",
	[RVMIG_LIBXC_REC_HVM_CONTEXT] = "HVM_CONTEXT",
	[RVMIG_LIBXC_REC_HVM_PARAMS] = "HVM_PARAMS",
	[RVMIG_LIBXC_REC_TOOLSTACK] = "TOOLSTACK",
	[RVMIG_LIBXC_REC_X86_PV_VCPU_MSRS] = "X86_PV_VCPU_MSRS",
	[RVMIG_LIBXC_REC_VERIFY] = "VERIFY",
	[RVMIG_LIBXC_REC_CHECKPOINT] = "CHECKPOINT",
	[RVMIG_LIBXC_REC_CHECKPOINT_DIRTY_PFN_LIST] = "CHECKPOINT_DIRTY_PFN_LIST",
	[RVMIG_LIBXC_REC_STATIC_DATA_END] = "STATIC_DATA_END",
	[RVMIG_LIBXC_REC_X86_CPUID_POLICY] = "X86_CPUID_POLICY",
	[RVMIG_LIBXC_REC_X86_MSR_POLICY] = "X86_MSR_POLICY",
};

static const char *const page_names[16] = {
	[RVMIG_PAGE_NOTAB] = "NOTAB",
	[RVMIG_PAGE_L1TAB] = "L1TAB",
	[RVMIG_PAGE_L2TAB] = "L2TAB",
	[RVMIG_PAGE_L3TAB] = "L3TAB",
	[RVMIG_PAGE_L4TAB] = "L4TAB",
	[RVMIG_PAGE_L1TAB_PIN] = "L1TAB_PIN",
	[RVMIG_PAGE_L2TAB_PIN] = "L2TAB_PIN",
	[RVMIG_PAGE_L3TAB_PIN] = "L3TAB_PIN",
	[RVMIG_PAGE_L4TAB_PIN] = "L4TAB_PIN",
	[RVMIG_PAGE_BROKEN] = "BROKEN",
	[RVMIG_PAGE_XALLOC] = "XALLOC",
	[RVMIG_PAGE_XTAB] = "XTAB",
};

RVMIG_API const char *rvmig_stream_rec_name(enum rvmig_stream_layer layer, uint32_t type)
{
	if (type == RVMIG_STREAM_REC_NONE)
		return "none";
	if (layer == RVMIG_STREAM_LAYER_LIBXL && type < RVMIG_LIBXL_REC_NTYPES)
		return libxl_names[type];
	if (layer == RVMIG_STREAM_LAYER_LIBXC && type < RVMIG_LIBXC_REC_NTYPES)
		return libxc_names[type];
	return (type & RVMIG_STREAM_REC_OPTIONAL) ? "unknown optional" : "unknown mandatory";
}

RVMIG_API const char *rvmig_stream_layer_name(enum rvmig_stream_layer layer)
{
	switch (layer) {
	case RVMIG_STREAM_LAYER_XL:
		return "xl header";
	case RVMIG_STREAM_LAYER_LIBXL:
		return "libxl";
	case RVMIG_STREAM_LAYER_LIBXC:
		return "libxc";
	case RVMIG_STREAM_LAYER_AUTO:
		return "input";
	case RVMIG_STREAM_LAYER_NONE:
		break;
	}
	return "stream";
}

RVMIG_API const char *rvmig_stream_page_type_name(uint32_t type)
{
	if (type < 16 && page_names[type])
		return page_names[type];
	return "reserved";
}
