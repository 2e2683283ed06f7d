// SPDX-License-Identifier: BSD-2-Clause
#define LUPROBE_CAPSTONE_LOADER_IMPL
#include <dlfcn.h>
#include <errno.h>
#include "capstone_loader.h"
#include "log.h"

#ifndef CAPSTONE_SONAME
#define CAPSTONE_SONAME "libcapstone.so.4"
#endif

static void *lib;
static struct {
	cs_err (*open)(cs_arch, cs_mode, csh *);
	cs_err (*option)(csh, cs_opt_type, size_t);
	cs_insn *(*malloc)(csh);
	bool (*iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
	void (*free)(cs_insn *, size_t);
	cs_err (*close)(csh *);
} api;

int capstone__load(void)
{
	if (lib)
		return 0;
	lib = dlopen(CAPSTONE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		lp_seterr("cannot load the disassembler %s: %s; install libcapstone",
			  CAPSTONE_SONAME, dlerror());
		return -ENOENT;
	}
	api.open = (cs_err(*)(cs_arch, cs_mode, csh *))dlsym(lib, "cs_open");
	api.option = (cs_err(*)(csh, cs_opt_type, size_t))dlsym(lib, "cs_option");
	api.malloc = (cs_insn * (*)(csh)) dlsym(lib, "cs_malloc");
	api.iter = (bool (*)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *))dlsym(
		lib, "cs_disasm_iter");
	api.free = (void (*)(cs_insn *, size_t))dlsym(lib, "cs_free");
	api.close = (cs_err(*)(csh *))dlsym(lib, "cs_close");
	if (!api.open || !api.option || !api.malloc || !api.iter || !api.free || !api.close) {
		lp_seterr("%s lacks the functions luprobe uses", CAPSTONE_SONAME);
		capstone__release();
		return -ENOENT;
	}
	return 0;
}

void capstone__release(void)
{
	if (lib)
		dlclose(lib);
	lib = NULL;
}

cs_err capstone__open(cs_arch arch, cs_mode mode, csh *handle)
{
	if (capstone__load())
		return CS_ERR_MEM;
	return api.open(arch, mode, handle);
}

cs_err capstone__option(csh handle, cs_opt_type type, size_t value)
{
	return api.option(handle, type, value);
}

cs_insn *capstone__malloc(csh handle)
{
	return api.malloc(handle);
}

bool capstone__iter(csh handle, const uint8_t **code, size_t *size, uint64_t *address,
		    cs_insn *insn)
{
	return api.iter(handle, code, size, address, insn);
}

void capstone__free(cs_insn *insn, size_t count)
{
	api.free(insn, count);
}

cs_err capstone__close(csh *handle)
{
	return api.close(handle);
}
