/* The DMA engine (see dma.h). */
#include "sim/iommu/dma.h"

#include <assert.h>
#include <string.h>

#include "sim/event.h"
#include "sim/machine.h"
#include "sim/mem.h"

void dma_init(struct dma_engine *e, struct machine *m, struct iommu *units, uint32_t nunits)
{
	memset(e, 0, sizeof(*e));
	e->m = m;
	e->units = units;
	e->nunits = nunits;
}

int dma_device_add(struct dma_engine *e, uint16_t sid, uint32_t unit)
{
	if (e->ndev == DMA_MAX_DEVICES || unit >= e->nunits)
		return -1;
	e->dev[e->ndev] = (struct dma_device){.sid = sid, .unit = unit};
	return (int)e->ndev++;
}

/* A 64-bit mix of device and address: what a device write leaves behind,
 * distinct per device and per quadword. */
uint64_t dma_pattern(uint32_t dev, uint64_t iova)
{
	uint64_t x = iova ^ ((uint64_t)(dev + 1) << 56) ^ 0xd1ce0000d1ce0000ull;
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	return x;
}

static void emit_piece(struct dma_engine *e, uint32_t dev, const struct iommu *io,
                       uint64_t iova, uint32_t len, unsigned acc, const struct iommu_xlate *x,
                       uint64_t at)
{
	struct event ev = machine_event(e->m, EV_DMA, -1);
	ev.cycle = at;
	ev.sub = (uint16_t)acc;
	ev.a = iova;
	ev.b = x->fault ? 0 : x->pa;
	ev.c = (uint64_t)e->dev[dev].sid << 16 | x->did;
	ev.d = x->path | (uint64_t)x->fault << 8 | (uint64_t)x->stale << 16 |
	       (uint64_t)x->env_stale << 17;
	ev.e = (uint64_t)dev << 32 | len;
	ev.f = (uint64_t)io->unit << 32 | (x->env_stale ? x->env_pa >> 12 : 0xffffffffu);
	machine_emit(e->m, &ev);
}

/* Moves the data of one translated piece. Quadwords are aligned down: a
 * device writes whole quadwords (a partial one would be a read-modify-
 * write on the bus). */
static void move_data(struct dma_engine *e, uint32_t dev, uint64_t iova, uint64_t pa,
                      uint32_t len, bool write)
{
	uint64_t first = pa & ~7ull, last = (pa + len - 1) & ~7ull;
	assert((first >> 12) == (last >> 12)); /* a piece never crosses a page */
	for (uint64_t q = first; q <= last; q += 8) {
		uint64_t va = iova - (pa - q);
		if (write)
			machine_store64(e->m, -1, q, dma_pattern(dev, va), false);
		else
			e->st.checksum = e->st.checksum * 31 + mem_read64(&e->m->mem, q);
	}
}

struct dma_result dma_transfer(struct dma_engine *e, uint32_t dev, uint64_t iova, uint32_t len,
                               bool write, uint64_t at)
{
	struct dma_result r;
	memset(&r, 0, sizeof(r));
	assert(dev < e->ndev && len > 0 && len <= DMA_MAX_LEN);
	struct iommu *io = &e->units[e->dev[dev].unit];
	unsigned acc = write ? IOMMU_ACC_WRITE : IOMMU_ACC_READ;
	e->st.transfers++;
	uint64_t end = iova + len;
	for (uint64_t cur = iova; cur < end && r.pieces <= DMA_MAX_LEN / 4096 + 1;) {
		uint64_t next = (cur | 0xfff) + 1;
		uint32_t n = (uint32_t)((next < end ? next : end) - cur);
		io->now = at;
		struct iommu_xlate x = iommu_translate(io, e->dev[dev].sid, cur, acc);
		emit_piece(e, dev, io, cur, n, acc, &x, at);
		if (e->piece)
			e->piece(e->piece_ctx, dev, cur, acc, &x, at);
		r.pieces++;
		r.stale += x.stale;
		r.env_stale += x.env_stale;
		if (x.fault) {
			r.faults++;
			e->st.faults++;
		} else {
			if (r.pieces == 1)
				r.first_pa = x.pa;
			r.ok++;
			move_data(e, dev, cur, x.pa, n, write);
			e->st.bytes += n;
		}
		cur += n;
	}
	e->st.pieces += r.pieces;
	e->st.stale_served += r.stale;
	e->st.env_stale += r.env_stale;
	return r;
}

int dma_stream_add(struct dma_engine *e, uint32_t dev, uint64_t iova, uint64_t pages,
                   uint32_t len, uint64_t period, uint64_t count, bool write, uint64_t start)
{
	if (e->nstreams == DMA_MAX_STREAMS || dev >= e->ndev || pages == 0 || len == 0 ||
	    len > DMA_MAX_LEN || period == 0)
		return -1;
	e->streams[e->nstreams] = (struct dma_stream){
		.iova = iova, .pages = pages, .period = period, .left = count,
		.next_at = start, .dev = dev, .len = len, .write = write,
	};
	return (int)e->nstreams++;
}

uint64_t dma_next_due(const struct dma_engine *e)
{
	uint64_t best = DMA_NEVER;
	for (uint32_t i = 0; i < e->nstreams; i++)
		if (e->streams[i].left && e->streams[i].next_at < best)
			best = e->streams[i].next_at;
	return best;
}

/* The stream due first (lowest index on a tie), or -1. */
static int first_due(const struct dma_engine *e, uint64_t t)
{
	int best = -1;
	for (uint32_t i = 0; i < e->nstreams; i++) {
		const struct dma_stream *s = &e->streams[i];
		if (s->left && s->next_at <= t &&
		    (best < 0 || s->next_at < e->streams[best].next_at))
			best = (int)i;
	}
	return best;
}

uint64_t dma_run_until(struct dma_engine *e, uint64_t t)
{
	uint64_t ran = 0;
	for (int i; (i = first_due(e, t)) >= 0;) {
		struct dma_stream *s = &e->streams[i];
		uint64_t iova = s->iova + (s->done % s->pages) * 4096;
		(void)dma_transfer(e, s->dev, iova, s->len, s->write, s->next_at);
		s->done++;
		s->left--;
		s->next_at += s->period;
		ran++;
	}
	return ran;
}
