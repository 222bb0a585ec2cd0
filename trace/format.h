/* The trace format, version 1 (docs/trace-format.md is the user-facing
 * description; this header is the definition).
 *
 * A trace is the complete input of a run plus what it produced, so that a
 * later hvsim can re-execute it and prove it produced the same events:
 *
 *   file    := header chunk* trailer            (nothing after the trailer)
 *   header  := "HVSIMTRC" u32:version u32:len field* u32:crc
 *              field := u16:key u32:len bytes[len]
 *              crc covers magic .. last field
 *   chunk   := "HVCK" u32:type u32:raw_len u32:comp_len u32:raw_crc
 *              u32:comp_crc u32:hdr_crc bytes[comp_len]
 *              hdr_crc covers the 24 bytes before it; the payload is one
 *              zlib stream whose bytes have CRC-32 comp_crc and which
 *              inflates to raw_len bytes with CRC-32 raw_crc (comp_crc is
 *              needed because deflate has slack: some damaged streams still
 *              inflate to the right bytes, and every byte must be covered)
 *   trailer := "HVEN" u64:records u64:events u64:choices u64:digest
 *              u64:chunks u32:crc          crc covers the 44 bytes before it
 *
 * Integers are little-endian. Chunks of type SCENARIO come first and hold
 * the scenario's YAML text, byte for byte; chunks of type FILE (anywhere
 * after them) hold every other input file the run read, so that a trace is
 * the complete input. Chunks of type RECORDS hold the
 * run, as records in the order they happened; a record never spans chunks:
 *
 *   'E' event   (76 bytes: seq u64, cycle u64, cpu i32, type u16, sub u16,
 *                a..f u64, caller u32)
 *   'C' choice  (kind u8, bound u64, value u64): a free choice the run
 *               made (sim/machine.h machine_choose), so a replay takes the
 *               same decisions without relying on the PRNG's algorithm
 *   'S' string  (id u32, len u16, bytes): an interned caller name
 *
 * The trailer's digest is the event bus digest (sim/bus.c) after the last
 * event. Checksums are CRC-32 (zlib's crc32), so any single damaged byte is
 * found, and its structure named with its offset.
 */
#ifndef HVSIM_TRACE_FORMAT_H
#define HVSIM_TRACE_FORMAT_H

#include <stdint.h>

#define TRACE_MAGIC "HVSIMTRC"
#define TRACE_VERSION 1u
#define TRACE_CHUNK_MAGIC "HVCK"
#define TRACE_END_MAGIC "HVEN"

#define TRACE_HEADER_FIXED 16u /* magic + version + len */
#define TRACE_CHUNK_HDR 28u
#define TRACE_TRAILER 48u

/* Bounds the reader enforces (a larger value is damage, not data). */
#define TRACE_MAX_HEADER (1u << 20)
#define TRACE_CHUNK_RAW (64u * 1024u)       /* what the writer produces */
#define TRACE_MAX_CHUNK_RAW (1u << 20)      /* what the reader accepts */
#define TRACE_MAX_SCENARIO (256u << 20)

enum trace_chunk_type {
	TRACE_CHUNK_SCENARIO = 1,
	TRACE_CHUNK_RECORDS = 2,
	TRACE_CHUNK_FILE = 3, /* an input file the scenario reads (a lackey
	                         trace): u16 name length, name, u64 offset of
	                         this piece in the file, the bytes */
};

enum trace_field {
	TF_HVSIM_VERSION = 1,
	TF_PROFILE = 2,
	TF_CONFIG = 3,
	TF_SEED = 4,       /* 8 bytes */
	TF_SCENARIO_NAME = 5,
	TF_SCENARIO_PATH = 6,
	TF_NCPUS = 7,      /* 4 bytes */
};

enum trace_rec_tag {
	TR_EVENT = 'E',
	TR_CHOICE = 'C',
	TR_STRING = 'S',
};

#define TRACE_EVENT_BYTES 76u
#define TRACE_CHOICE_BYTES 17u
#define TRACE_MAX_STRING 1024u

#endif
