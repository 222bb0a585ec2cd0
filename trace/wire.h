/* Little-endian encoding of trace integers and events, byte by byte, so
 * a trace reads the same on any host. */
#ifndef HVSIM_TRACE_WIRE_H
#define HVSIM_TRACE_WIRE_H

#include <stdint.h>
#include <string.h>

#include "sim/event.h"
#include "trace/format.h"

static inline void wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void wire_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void wire_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t wire_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t wire_get32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline uint64_t wire_get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void wire_put_event(uint8_t *p, const struct event *ev)
{
	wire_put64(p, ev->seq);
	wire_put64(p + 8, ev->cycle);
	wire_put32(p + 16, (uint32_t)ev->cpu);
	wire_put16(p + 20, ev->type);
	wire_put16(p + 22, ev->sub);
	wire_put64(p + 24, ev->a);
	wire_put64(p + 32, ev->b);
	wire_put64(p + 40, ev->c);
	wire_put64(p + 48, ev->d);
	wire_put64(p + 56, ev->e);
	wire_put64(p + 64, ev->f);
	wire_put32(p + 72, ev->caller);
}

static inline void wire_get_event(const uint8_t *p, struct event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->seq = wire_get64(p);
	ev->cycle = wire_get64(p + 8);
	ev->cpu = (int32_t)wire_get32(p + 16);
	ev->type = wire_get16(p + 20);
	ev->sub = wire_get16(p + 22);
	ev->a = wire_get64(p + 24);
	ev->b = wire_get64(p + 32);
	ev->c = wire_get64(p + 40);
	ev->d = wire_get64(p + 48);
	ev->e = wire_get64(p + 56);
	ev->f = wire_get64(p + 64);
	ev->caller = wire_get32(p + 72);
}

#endif
