/* DWARF CFI unwinding of a copied user stack, one frame at a time with libdw's CFI primitives
 * (dwarf_cfi_addrframe, dwarf_frame_cfa, dwarf_frame_register) rather than dwfl_attach_state:
 * the CFI then belongs to usym's per-file Dwfl_Module, parsed once per ELF file (cached by
 * (device, inode), and by build-id for processes known from records) and shared by every
 * process that maps it, while dwfl_attach_state needs a Dwfl per process with every module
 * reported at its load address, whose CFI would be parsed again for each process. The DWARF
 * expressions CFI uses are evaluated here over the registers and the copied bytes. */
#include "symbolize/unwind.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "symbolize/usym.h"

/* Bounds on the work one expression may do (CFI expressions are a handful of operations: the
 * PLT's CFA rule is the longest common one, at 9). */
#define EXPR_MAX_OPS   64
#define EXPR_STACK_MAX 16
/* Above this, an address is not a user-space one on x86_64 (and not a pc). */
#define USER_ADDR_END 0x0000800000000000ull

struct am_unwinder {
	struct am_usym *u;
	Elf *vdso;	     /* this process's vDSO image, read in place */
	Dwarf_CFI *vdso_cfi; /* its .eh_frame; NULL when it has none */
	int64_t vdso_vaddr;  /* ELF virtual address minus offset in the image */
	bool vdso_tried;
	struct am_unwind_stats stats;
};

/* One frame's registers and which of them are known (CFI may leave caller-saved ones
 * undefined). */
struct uframe {
	uint64_t r[AM_UNWIND_NREGS];
	uint32_t known;
	bool exact_pc; /* the pc is the interrupted instruction (sampled, or a signal frame's) */
};

/* What one step sees: the frame being unwound, its CFA, and the copied stack. */
struct uctx {
	const struct uframe *f;
	uint64_t cfa;
	bool have_cfa;
	uint64_t sp0; /* where STACK was copied from */
	const uint8_t *stack;
	size_t len;
};

/* Internal result of a step or an evaluation that did not stop the walk. */
#define UNW_OK AM_UNWIND_NSTOPS

struct am_unwinder *am_unwinder_new(struct am_usym *u)
{
	struct am_unwinder *w = calloc(1, sizeof(*w));

	if (w)
		w->u = u;
	return w;
}

void am_unwinder_free(struct am_unwinder *w)
{
	if (!w)
		return;
	if (w->vdso_cfi)
		dwarf_cfi_end(w->vdso_cfi);
	if (w->vdso)
		elf_end(w->vdso);
	free(w);
}

void am_unwinder_stats(const struct am_unwinder *w, struct am_unwind_stats *out)
{
	*out = w->stats;
}

void am_unwinder_forget(struct am_unwinder *w, uint32_t pid)
{
	/* Nothing is kept per process: CFI lives with the files, which usym keeps. */
	(void)w;
	(void)pid;
}

const char *am_unwind_stop_name(enum am_unwind_stop s)
{
	static const char *const names[AM_UNWIND_NSTOPS] = {
	    [AM_UNWIND_END] = "end",	   [AM_UNWIND_TRUNCATED] = "truncated",
	    [AM_UNWIND_NO_CFI] = "no CFI", [AM_UNWIND_MAX] = "frame limit",
	    [AM_UNWIND_FAILED] = "failed",
	};

	return (unsigned)s < AM_UNWIND_NSTOPS ? names[s] : "?";
}

/* The 8 bytes at ADDR in the copy. Past its end: TRUNCATED (the stack goes on beyond what was
 * copied); below the sampled sp: FAILED (no frame keeps data there). */
static int read_stack(const struct uctx *c, uint64_t addr, uint64_t *val)
{
	if (addr < c->sp0)
		return AM_UNWIND_FAILED;
	if (addr - c->sp0 > c->len || c->len - (addr - c->sp0) < sizeof(*val))
		return addr >= USER_ADDR_END ? AM_UNWIND_FAILED : AM_UNWIND_TRUNCATED;
	memcpy(val, c->stack + (addr - c->sp0), sizeof(*val));
	return UNW_OK;
}

static int get_reg(const struct uctx *c, uint64_t reg, uint64_t *val)
{
	if (reg >= AM_UNWIND_NREGS || !(c->f->known & (1u << reg)))
		return AM_UNWIND_FAILED;
	*val = c->f->r[reg];
	return UNW_OK;
}

/* Apply the binary operator ATOM to A (below) and B (top). */
static bool binary_op(unsigned atom, uint64_t a, uint64_t b, uint64_t *out)
{
	switch (atom) {
	case DW_OP_plus:
		*out = a + b;
		break;
	case DW_OP_minus:
		*out = a - b;
		break;
	case DW_OP_mul:
		*out = a * b;
		break;
	case DW_OP_and:
		*out = a & b;
		break;
	case DW_OP_or:
		*out = a | b;
		break;
	case DW_OP_xor:
		*out = a ^ b;
		break;
	case DW_OP_shl:
		*out = b < 64 ? a << b : 0;
		break;
	case DW_OP_shr:
		*out = b < 64 ? a >> b : 0;
		break;
	case DW_OP_shra:
		*out = (uint64_t)((int64_t)a >> (b < 63 ? b : 63));
		break;
	case DW_OP_eq:
		*out = a == b;
		break;
	case DW_OP_ne:
		*out = a != b;
		break;
	case DW_OP_lt:
		*out = (int64_t)a < (int64_t)b;
		break;
	case DW_OP_le:
		*out = (int64_t)a <= (int64_t)b;
		break;
	case DW_OP_gt:
		*out = (int64_t)a > (int64_t)b;
		break;
	case DW_OP_ge:
		*out = (int64_t)a >= (int64_t)b;
		break;
	default:
		return false;
	}
	return true;
}

/* One operation that pushes a value (a register, a constant, the CFA); false when OP is not
 * one of them. */
static bool push_op(const struct uctx *c, const Dwarf_Op *op, uint64_t *v, int *err)
{
	unsigned a = op->atom;

	*err = UNW_OK;
	if (a >= DW_OP_lit0 && a <= DW_OP_lit31) {
		*v = a - DW_OP_lit0;
	} else if (a >= DW_OP_breg0 && a <= DW_OP_breg31) {
		*err = get_reg(c, a - DW_OP_breg0, v);
		*v += op->number;
	} else if (a == DW_OP_bregx) {
		*err = get_reg(c, op->number, v);
		*v += op->number2;
	} else if (a == DW_OP_call_frame_cfa) {
		*err = c->have_cfa ? UNW_OK : AM_UNWIND_FAILED;
		*v = c->cfa;
	} else if (a == DW_OP_const1u || a == DW_OP_const1s || a == DW_OP_const2u ||
		   a == DW_OP_const2s || a == DW_OP_const4u || a == DW_OP_const4s ||
		   a == DW_OP_const8u || a == DW_OP_const8s || a == DW_OP_constu ||
		   a == DW_OP_consts || a == DW_OP_addr) {
		*v = op->number; /* libdw stores signed constants sign-extended */
	} else {
		return false;
	}
	return true;
}

/* Evaluate the CFI expression OPS. *VALUE (when not NULL) tells whether the result is the
 * register's value (DW_OP_stack_value, or a lone register operation) rather than the address
 * where it was saved. */
static int eval(const struct uctx *c, const Dwarf_Op *ops, size_t nops, uint64_t *out, bool *value)
{
	uint64_t s[EXPR_STACK_MAX], v;
	size_t n = 0, i;
	int err;

	if (!nops || nops > EXPR_MAX_OPS)
		return AM_UNWIND_FAILED;
	if (value)
		*value = false;
	if (nops == 1 && (ops[0].atom == DW_OP_regx ||
			  (ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31))) {
		if (value)
			*value = true;
		return get_reg(c,
			       ops[0].atom == DW_OP_regx ? ops[0].number
							 : (uint64_t)(ops[0].atom - DW_OP_reg0),
			       out);
	}
	for (i = 0; i < nops; i++) {
		const Dwarf_Op *op = &ops[i];

		if (push_op(c, op, &v, &err)) {
			if (err != UNW_OK)
				return err;
			if (n == EXPR_STACK_MAX)
				return AM_UNWIND_FAILED;
			s[n++] = v;
			continue;
		}
		switch (op->atom) {
		case DW_OP_nop:
			break;
		case DW_OP_stack_value:
			if (!value || i + 1 != nops)
				return AM_UNWIND_FAILED;
			*value = true;
			break;
		case DW_OP_dup:
		case DW_OP_over:
			if (n < (op->atom == DW_OP_dup ? 1u : 2u) || n == EXPR_STACK_MAX)
				return AM_UNWIND_FAILED;
			s[n] = s[n - (op->atom == DW_OP_dup ? 1 : 2)];
			n++;
			break;
		case DW_OP_drop:
			if (!n)
				return AM_UNWIND_FAILED;
			n--;
			break;
		case DW_OP_swap:
			if (n < 2)
				return AM_UNWIND_FAILED;
			v = s[n - 1];
			s[n - 1] = s[n - 2];
			s[n - 2] = v;
			break;
		case DW_OP_deref:
			if (!n)
				return AM_UNWIND_FAILED;
			err = read_stack(c, s[n - 1], &s[n - 1]);
			if (err != UNW_OK)
				return err;
			break;
		case DW_OP_plus_uconst:
			if (!n)
				return AM_UNWIND_FAILED;
			s[n - 1] += op->number;
			break;
		case DW_OP_neg:
		case DW_OP_not:
			if (!n)
				return AM_UNWIND_FAILED;
			s[n - 1] = op->atom == DW_OP_neg ? -s[n - 1] : ~s[n - 1];
			break;
		default:
			/* Binary operators. Branches and the rest do not occur in the CFI
			 * compilers emit: refused. */
			if (n < 2 || !binary_op(op->atom, s[n - 2], s[n - 1], &v))
				return AM_UNWIND_FAILED;
			s[n - 2] = v;
			n--;
			break;
		}
	}
	if (!n)
		return AM_UNWIND_FAILED;
	*out = s[n - 1];
	return UNW_OK;
}

/* The CFI row for module address MADDR: .eh_frame first (what the loader's unwinder uses
 * too), then .debug_frame (of the file or its separate debug file), as libdwfl does. */
static Dwarf_Frame *find_frame(struct am_unwinder *w, const struct am_usym_loc *loc)
{
	Dwarf_Frame *frame = NULL;
	Dwarf_Addr bias;
	Dwarf_CFI *cfi;

	cfi = dwfl_module_eh_cfi(loc->mod, &bias);
	if (cfi && !dwarf_cfi_addrframe(cfi, loc->mod_addr - bias, &frame))
		return frame;
	/* Through usym: reading .debug_frame loads the file's DWARF, which its cache charges. */
	cfi = am_usym_dwarf_cfi(w->u, loc, &bias);
	if (cfi && !dwarf_cfi_addrframe(cfi, loc->mod_addr - bias, &frame))
		return frame;
	return NULL;
}

/* The size of the ELF image at BASE (in memory: its section headers come last). */
static size_t image_size(const unsigned char *base)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	size_t size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);

	for (unsigned i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_offset + ph[i].p_filesz > size)
			size = ph[i].p_offset + ph[i].p_filesz;
	return size;
}

/* The vDSO's CFI. The kernel maps one image into every 64-bit process, this one included, so
 * it is read here from this process's own copy: the sampled one may be gone, and its memory
 * is not ours to read. */
static Dwarf_CFI *vdso_cfi(struct am_unwinder *w)
{
	const unsigned char *base = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	GElf_Phdr ph;
	size_t i, n;

	if (w->vdso_tried)
		return w->vdso_cfi;
	w->vdso_tried = true;
	if (!base || memcmp(base, ELFMAG, SELFMAG) || base[EI_CLASS] != ELFCLASS64)
		return NULL;
	elf_version(EV_CURRENT);
	w->vdso = elf_memory((char *)base, image_size(base));
	if (!w->vdso || elf_getphdrnum(w->vdso, &n))
		return NULL;
	for (i = 0; i < n; i++)
		if (gelf_getphdr(w->vdso, (int)i, &ph) && ph.p_type == PT_LOAD) {
			w->vdso_vaddr = (int64_t)(ph.p_vaddr - ph.p_offset);
			w->vdso_cfi = dwarf_getcfi_elf(w->vdso);
			break;
		}
	return w->vdso_cfi;
}

/* The CFI row for PC, which LOC (am_usym_locate) placed: the mapped file's, or the vDSO's. */
static Dwarf_Frame *frame_at(struct am_unwinder *w, const struct am_usym_loc *loc, uint64_t pc)
{
	Dwarf_Frame *frame = NULL;
	Dwarf_CFI *cfi;

	if (loc->mod)
		return find_frame(w, loc);
	if (strcmp(loc->map->path, "[vdso]") || !(cfi = vdso_cfi(w)))
		return NULL;
	if (dwarf_cfi_addrframe(cfi, pc - loc->map->start + loc->map->pgoff + w->vdso_vaddr,
				&frame))
		return NULL;
	return frame;
}

/* Register REG of the caller, by FRAME's rule for it. Undefined leaves it unknown, and so does
 * a rule that cannot be evaluated for a register other than the return address (RA): the walk
 * fails later only if a caller needs it, as libdwfl's unwinder does. */
static int caller_reg(const struct uctx *c, Dwarf_Frame *frame, int reg, int ra,
		      struct uframe *caller)
{
	Dwarf_Op mem[3], *ops = NULL;
	size_t nops = 0;
	uint64_t v;
	bool value;
	int err;

	if (dwarf_frame_register(frame, reg, mem, &ops, &nops))
		return AM_UNWIND_FAILED;
	if (!nops) {
		/* same_value (OPS NULL): unchanged; undefined: lost in this frame. */
		if (ops)
			caller->known &= ~(1u << reg);
		return UNW_OK;
	}
	err = eval(c, ops, nops, &v, &value);
	/* GCC's x86_64 epilogues pop saved registers without CFI saying so: in an interrupted
	 * frame, a save slot below sp was popped already, back into the register. */
	if (err == UNW_OK && !value && c->f->exact_pc && v < c->f->r[AM_UNWIND_REG_SP])
		return UNW_OK;
	if (err == UNW_OK && !value)
		err = read_stack(c, v, &v);
	if (err != UNW_OK) {
		if (reg == ra)
			return err;
		caller->known &= ~(1u << reg);
		return UNW_OK;
	}
	caller->r[reg] = v;
	caller->known |= 1u << reg;
	return UNW_OK;
}

/* Step from F to its caller with the CFI of FRAME. */
static int step_cfi(struct uctx *c, Dwarf_Frame *frame, struct uframe *f)
{
	struct uframe caller = *f;
	Dwarf_Op *ops;
	size_t nops;
	bool signal = false;
	int ra, reg, err;

	ra = dwarf_frame_info(frame, NULL, NULL, &signal);
	if (ra < 0 || ra >= AM_UNWIND_NREGS || dwarf_frame_cfa(frame, &ops, &nops))
		return AM_UNWIND_FAILED;
	if (!nops)
		return AM_UNWIND_END; /* no CFA: nothing called this frame */
	err = eval(c, ops, nops, &c->cfa, NULL);
	if (err != UNW_OK)
		return err;
	c->have_cfa = true;
	/* The CFA is the caller's sp unless a rule says otherwise (x86_64's ABI rule says so). */
	caller.r[AM_UNWIND_REG_SP] = c->cfa;
	caller.known |= 1u << AM_UNWIND_REG_SP;
	for (reg = 0; reg < AM_UNWIND_NREGS; reg++) {
		err = caller_reg(c, frame, reg, ra, &caller);
		if (err != UNW_OK)
			return err;
	}
	if (!(caller.known & (1u << ra)) || !caller.r[ra])
		return AM_UNWIND_END; /* return address undefined (_start, thread start) or 0 */
	caller.r[AM_UNWIND_REG_IP] = caller.r[ra];
	caller.known |= 1u << AM_UNWIND_REG_IP;
	if (caller.r[AM_UNWIND_REG_IP] >= USER_ADDR_END)
		return AM_UNWIND_FAILED;
	/* Each caller's frame lies above its callee's, except across a signal frame (the
	 * interrupted sp may be on another stack). */
	if (!signal && caller.r[AM_UNWIND_REG_SP] <= f->r[AM_UNWIND_REG_SP])
		return AM_UNWIND_FAILED;
	caller.exact_pc = signal;
	*f = caller;
	return UNW_OK;
}

#define REG_FP 6 /* rbp */

/* Step from F, whose pc lies in an executable mapping without CFI for it, by its frame
 * pointer: rbp points at the saved rbp with the return address above it. Taken only when
 * that is plausible (rbp 8-aligned, at or above sp, inside the copy; the return address in a
 * captured mapping), else NO_CFI stands. Only rbp, sp and the pc are known afterwards. */
static int step_fp(struct am_unwinder *w, uint32_t pid, uint64_t gen, const struct uctx *c,
		   struct uframe *f)
{
	uint64_t fp = f->r[REG_FP], ra, saved;
	struct am_usym_loc loc;

	if (!(f->known & (1u << REG_FP)) || fp < f->r[AM_UNWIND_REG_SP] || fp % 8 ||
	    read_stack(c, fp, &saved) != UNW_OK || read_stack(c, fp + 8, &ra) != UNW_OK || !ra ||
	    ra >= USER_ADDR_END || am_usym_locate(w->u, pid, gen, ra - 1, &loc))
		return AM_UNWIND_NO_CFI;
	f->r[AM_UNWIND_REG_IP] = ra;
	f->r[AM_UNWIND_REG_SP] = fp + 16;
	f->r[REG_FP] = saved;
	f->known = 1u << AM_UNWIND_REG_IP | 1u << AM_UNWIND_REG_SP | 1u << REG_FP;
	f->exact_pc = false;
	w->stats.fp_frames++;
	return UNW_OK;
}

/* Replace F by its caller's frame, or say why not. */
static int step(struct am_unwinder *w, uint32_t pid, uint64_t gen, struct uctx *c, struct uframe *f)
{
	uint64_t pc = f->r[AM_UNWIND_REG_IP];
	struct am_usym_loc loc;
	Dwarf_Frame *frame;
	int err;

	/* A return address is the instruction after the call, which may already be another
	 * function's (or another CFI row's) first: look up the call itself. */
	if (!f->exact_pc)
		pc--;
	if (am_usym_locate(w->u, pid, gen, pc, &loc))
		return AM_UNWIND_NO_CFI;
	c->f = f;
	frame = frame_at(w, &loc, pc);
	if (!frame)
		return step_fp(w, pid, gen, c, f);
	c->have_cfa = false;
	err = step_cfi(c, frame, f);
	free(frame);
	return err;
}

/* The walk from REGS, into PCS (room for MAX >= 1). */
static unsigned walk(struct am_unwinder *w, uint32_t pid, uint64_t gen,
		     const struct am_unwind_regs *regs, struct uctx *c, uint64_t *pcs, unsigned max,
		     enum am_unwind_stop *stop)
{
	struct uframe f;
	unsigned n = 0;
	int err;

	memcpy(f.r, regs->r, sizeof(f.r));
	f.known = (1u << AM_UNWIND_NREGS) - 1;
	f.exact_pc = true;
	c->sp0 = f.r[AM_UNWIND_REG_SP];
	pcs[n++] = f.r[AM_UNWIND_REG_IP];
	/* At most MAX steps: each adds a frame or ends the walk. */
	for (;;) {
		err = step(w, pid, gen, c, &f);
		if (err != UNW_OK) {
			*stop = (enum am_unwind_stop)err;
			return n;
		}
		if (n == max) {
			*stop = AM_UNWIND_MAX;
			return n;
		}
		/* A signal frame's caller was interrupted at this very instruction: written one
		 * past it, so that looking it up as a return address (at pc - 1) finds it. */
		pcs[n++] = f.r[AM_UNWIND_REG_IP] + f.exact_pc;
	}
}

int am_unwind(struct am_unwinder *w, uint32_t pid, uint64_t gen, const struct am_unwind_regs *regs,
	      const void *stack, size_t len, uint64_t *pcs, unsigned max, enum am_unwind_stop *stop)
{
	struct uctx c = {.stack = stack, .len = stack ? len : 0};
	unsigned n = 0;

	*stop = AM_UNWIND_FAILED;
	if (!max)
		*stop = AM_UNWIND_MAX;
	else if (regs && regs->r[AM_UNWIND_REG_IP] && regs->r[AM_UNWIND_REG_IP] < USER_ADDR_END)
		n = walk(w, pid, gen, regs, &c, pcs, max, stop);
	w->stats.walks++;
	w->stats.frames += n;
	w->stats.stops[*stop]++;
	return (int)n;
}
