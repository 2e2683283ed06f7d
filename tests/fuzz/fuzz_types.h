/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Named Go types for the fuzz targets that parse type specs and field
 * paths: a small program's worth (structs with embedding, a recursive
 * type, pointers to structs of structs), made on demand from Go source
 * text by the parser under test, so the fuzzers need no binary.
 */
#ifndef LUPROBE_FUZZ_TYPES_H
#define LUPROBE_FUZZ_TYPES_H

#include <string.h>
#include "gotype.h"

static const struct {
	const char *name, *def;
} fuzz_named[] = {
	{"main.T", "struct { A int; B string; C []byte; D map[string]int; E *main.T; F [4]uint16; "
		   "G error; H any; I chan int; J func(int) error; K float64; L complex128; "
		   "M bool; N uintptr; O unsafe.Pointer; P main.Inner }"},
	{"main.node", "struct { next *main.node; val int32 }"},
	{"main.Inner", "struct { X int; Y string }"},
	{"main.Other", "struct { X int; W []main.Inner }"},
	{"main.Outer", "struct { main.Inner; *main.node; Z int8 }"},
	{"main.Ambig", "struct { main.Inner; main.Other }"},
	{"main.Deep", "struct { *main.Outer; Q struct { R *main.Deep; S [2]main.Inner } }"},
	{"main.Empty", "struct {}"},
	{"main.Floats", "struct { X float64; Y float32; Z complex64 }"},
	{"main.Big", "struct { A [100000]int64; B string }"},
	/* impossible in Go, possible in corrupted DWARF: contains itself by value */
	{"main.Loop", "struct { A int; B [2]main.Loop; C main.Loop }"},
	{"main.Pair[string,int]", "struct { K string; V int }"},
	{"time.Duration", "int64"},
	{"net/url.Userinfo", "struct { username string; password string; passwordSet bool }"},
	{"net/url.URL", "struct { Scheme string; Opaque string; User *net/url.Userinfo; "
			"Host string; Path string; RawPath string; ForceQuery bool; "
			"RawQuery string; Fragment string }"},
	{"net/http.Request", "struct { Method string; URL *net/url.URL; Proto string; "
			     "ProtoMajor int; Header map[string][]string; Body any; "
			     "ContentLength int64; Host string; ctx any }"},
};

#define FUZZ_NNAMED (sizeof(fuzz_named) / sizeof(fuzz_named[0]))

struct fuzz_types {
	struct gotypes *ts;
	const struct gotype *made[FUZZ_NNAMED];
};

static const struct gotype *fuzz_lookup(void *arg, const char *name)
{
	struct fuzz_types *ft = arg;
	const struct gotype *body;
	struct gotype *t;
	size_t i;

	for (i = 0; i < FUZZ_NNAMED && strcmp(fuzz_named[i].name, name) != 0; i++)
		;
	if (i == FUZZ_NNAMED)
		return NULL;
	if (ft->made[i])
		return ft->made[i];
	/* The named type exists before its body is parsed, so that the body can refer to it. */
	t = gotypes__new_type(ft->ts, GK_STRUCT, name, 0, 1);
	if (!t)
		return NULL;
	ft->made[i] = t;
	if (gotypes__parse(ft->ts, fuzz_named[i].def, fuzz_lookup, ft, &body, NULL, 0))
		return NULL;
	t->kind = body->kind;
	t->size = body->size;
	t->align = body->align;
	t->elem = body->elem;
	t->key = body->key;
	t->len = body->len;
	t->nfields = body->nfields;
	t->fields = body->fields;
	return t;
}

#endif
