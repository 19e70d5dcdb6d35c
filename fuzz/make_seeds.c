/* Makes seed inputs for the fuzz targets from recorded Mesa streams (the .vnr files of
 * tests/unit/data: {u32 size; bytes} chunks, one per stream the dispatcher decoded).
 *
 *    fuzz_make_seeds TARGET OUTDIR FILE.vnr...
 *
 * TARGET decoder: per file, one seed per chunk and one of all chunks in order (the whole
 *    session, which creates the objects its later commands use, so that these reach their
 *    handlers live, e.g. the mesh draws of mesa26-mesh-ring.vnr); each twice: as it is
 *    (fuzz_decoder runs a stream whose size is a multiple of 4 at the newest protocol
 *    level) and with one byte more (Mesa 25.0.7's level; the byte is not read).
 * TARGET vtest: per file, the session Mesa's vtest transport opens (CREATE_RENDERER,
 *    version, param and capset queries, CONTEXT_INIT, the ring's shared-memory blob) with
 *    every chunk as a SUBMIT_CMD2 batch that signals a sync, then sync and resource
 *    clean-up; one seed with all chunks and one per chunk.
 * TARGET render_server: the same streams as libvirglrenderer's proxy sends them (client
 *    INIT, CREATE_CONTEXT, context INIT with a timeline shmem and eventfd, CREATE_RESOURCE,
 *    SUBMIT_CMD with continuations, SUBMIT_FENCE, DESTROY_CONTEXT), in fuzz_render_server's
 *    input format.
 * TARGET ring: per file, the chunks written into a 64 KiB ring one step each, in
 *    fuzz_ring's input format; once from counter 0 and once just below the 32-bit wrap.
 *
 * Prints nothing; exits 1 with a message on an error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
   uint8_t *p;
   size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
   if (!n)
      return;
   if (b->len + n > b->cap) {
      b->cap = (b->len + n) * 2;
      b->p = realloc(b->p, b->cap);
      if (!b->p) {
         fprintf(stderr, "fuzz_make_seeds: out of memory\n");
         exit(1);
      }
   }
   memcpy(b->p + b->len, p, n);
   b->len += n;
}

static void put8(struct buf *b, uint8_t v)
{
   put(b, &v, 1);
}
static void put16(struct buf *b, uint16_t v)
{
   put(b, &v, 2);
}
static void put32(struct buf *b, uint32_t v)
{
   put(b, &v, 4);
}
static void put64(struct buf *b, uint64_t v)
{
   put(b, &v, 8);
}

struct chunks {
   uint8_t *data;
   size_t count;
   size_t off[4096], size[4096];
};

static void read_chunks(const char *path, struct chunks *c)
{
   FILE *f = fopen(path, "rb");
   if (!f) {
      fprintf(stderr, "fuzz_make_seeds: cannot open %s\n", path);
      exit(1);
   }
   fseek(f, 0, SEEK_END);
   const long total = ftell(f);
   fseek(f, 0, SEEK_SET);
   c->data = malloc((size_t)total + 1);
   if (!c->data || fread(c->data, 1, (size_t)total, f) != (size_t)total) {
      fprintf(stderr, "fuzz_make_seeds: cannot read %s\n", path);
      exit(1);
   }
   fclose(f);
   c->count = 0;
   for (size_t off = 0; off + 4 <= (size_t)total && c->count < 4096;) {
      uint32_t size;
      memcpy(&size, c->data + off, 4);
      if (size > (size_t)total - off - 4) {
         fprintf(stderr, "fuzz_make_seeds: %s: chunk at byte %zu runs past the end\n", path, off);
         exit(1);
      }
      c->off[c->count] = off + 4;
      c->size[c->count++] = size;
      off += 4 + size;
   }
}

static void write_seed(const char *dir, const char *path, const char *suffix, const struct buf *b)
{
   const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
   char name[4096];
   snprintf(name, sizeof(name), "%s/%.*s%s", dir, (int)(strcspn(base, ".")), base, suffix);
   FILE *f = fopen(name, "wb");
   if (!f || fwrite(b->p, 1, b->len, f) != b->len || fclose(f)) {
      fprintf(stderr, "fuzz_make_seeds: cannot write %s\n", name);
      exit(1);
   }
}

/* -- vtest ----------------------------------------------------------------------------- */

/* The size Mesa 25.0.7 asks for its ring blob: a 128 KiB buffer + control words. */
#define RING_BLOB_SIZE 0x200c4u

static void vt_msg(struct buf *b, uint32_t cmd, const uint32_t *p, uint32_t dwords)
{
   put32(b, dwords);
   put32(b, cmd);
   put(b, p, (size_t)dwords * 4);
}

static void vt_session(struct buf *b, const struct chunks *c, size_t first, size_t last)
{
   static const char name[] = "fuzz-seed";
   put32(b, sizeof(name));
   put32(b, 8); /* CREATE_RENDERER: length in bytes */
   put(b, name, sizeof(name));
   vt_msg(b, 10, NULL, 0); /* PING_PROTOCOL_VERSION */
   vt_msg(b, 11, (const uint32_t[]){ 3 }, 1);
   vt_msg(b, 15, (const uint32_t[]){ 1 }, 1);    /* GET_PARAM max timelines */
   vt_msg(b, 16, (const uint32_t[]){ 4, 0 }, 2); /* GET_CAPSET venus */
   vt_msg(b, 17, (const uint32_t[]){ 4 }, 1);    /* CONTEXT_INIT */
   vt_msg(b, 18, (const uint32_t[]){ 2, 1, RING_BLOB_SIZE, 0, 0, 0 }, 6); /* blob -> res 1 */
   vt_msg(b, 18, (const uint32_t[]){ 2, 1, 4096, 0, 0, 0 }, 6);           /* replies -> res 2 */
   vt_msg(b, 19, (const uint32_t[]){ 0, 0 }, 2); /* SYNC_CREATE -> sync 1 */
   for (size_t i = first; i < last; i++) {
      const uint32_t dw = (uint32_t)(c->size[i] / 4);
      /* {batch_count, batch{flags, cmd_offset, cmd_size, sync_offset, sync_count, ring},
       *  commands, sync {id, value_lo, value_hi}} */
      const uint32_t hdr[7] = { 1, 1, 7, dw, 7 + dw, 1, 0 };
      put32(b, 7 + dw + 3);
      put32(b, 24);
      put(b, hdr, sizeof(hdr));
      put(b, c->data + c->off[i], (size_t)dw * 4);
      put32(b, 1);
      put32(b, (uint32_t)i + 1);
      put32(b, 0);
   }
   vt_msg(b, 23, (const uint32_t[]){ 0, 1000, 1, (uint32_t)last, 0 }, 5); /* SYNC_WAIT */
   vt_msg(b, 21, (const uint32_t[]){ 1 }, 1);                             /* SYNC_READ */
   vt_msg(b, 22, (const uint32_t[]){ 1, 99, 0 }, 3);                      /* SYNC_WRITE */
   vt_msg(b, 20, (const uint32_t[]){ 1 }, 1);                             /* SYNC_UNREF */
   vt_msg(b, 7, (const uint32_t[]){ 1, 0 }, 2);                           /* RESOURCE_BUSY_WAIT */
   vt_msg(b, 3, (const uint32_t[]){ 1 }, 1);                              /* RESOURCE_UNREF */
}

/* -- render server ----------------------------------------------------------------------- */

/* One fuzz_render_server message. */
static void rs_msg(struct buf *b, uint8_t target, uint8_t fds, uint32_t arg, const void *p,
                   size_t n)
{
   put8(b, target);
   put8(b, fds);
   put16(b, (uint16_t)n);
   put32(b, arg);
   put(b, p, n);
}

static void rs_session(struct buf *b, const struct chunks *c)
{
   struct buf m = { 0 };
   rs_msg(b, 0, 0, 0, (const uint32_t[]){ 1, 0 }, 8); /* INIT */
   put32(&m, 3);                                      /* CREATE_CONTEXT ctx 1 "fuzz-seed" */
   put32(&m, 1);
   char name[32] = "fuzz-seed";
   put(&m, name, sizeof(name));
   rs_msg(b, 0, 0, 0, m.p, m.len);
   m.len = 0;
   put32(&m, 1); /* context INIT: capset 4, 64 timelines; fds: shmem + eventfd */
   put32(&m, 4);
   put64(&m, 256);
   rs_msg(b, 1, 3, 4096, m.p, m.len);
   m.len = 0;
   put32(&m, 2); /* CREATE_RESOURCE res 1: shared memory for the ring */
   put32(&m, 1);
   put64(&m, 0);
   put64(&m, RING_BLOB_SIZE);
   put32(&m, 1);
   put32(&m, 0);
   rs_msg(b, 1, 0, 0, m.p, m.len);
   m.len = 0;
   put32(&m, 2); /* CREATE_RESOURCE res 2: reply streams */
   put32(&m, 2);
   put64(&m, 0);
   put64(&m, 4096);
   put32(&m, 1);
   put32(&m, 0);
   rs_msg(b, 1, 0, 0, m.p, m.len);
   for (size_t i = 0; i < c->count; i++) {
      const uint32_t size = (uint32_t)(c->size[i] & ~(size_t)3);
      uint8_t cmd[264] = { 0 };
      const uint32_t op = 5;
      memcpy(cmd, &op, 4);
      memcpy(cmd + 4, &size, 4);
      memcpy(cmd + 8, c->data + c->off[i], size < 256 ? size : 256);
      rs_msg(b, 1, 0, 0, cmd, sizeof(cmd));
      if (size > 256)
         rs_msg(b, 1, 0, 0, c->data + c->off[i] + 256, size - 256);
      const uint32_t fence[4] = { 6, 0, (uint32_t)(i % 4), (uint32_t)i + 1 };
      rs_msg(b, 1, 0, 0, fence, sizeof(fence));
   }
   rs_msg(b, 1, 0, 0, (const uint32_t[]){ 4, 1 }, 8); /* DESTROY_RESOURCE */
   rs_msg(b, 1, 0, 0, (const uint32_t[]){ 0 }, 4);    /* NOP */
   rs_msg(b, 0, 0, 0, (const uint32_t[]){ 4, 1 }, 8); /* DESTROY_CONTEXT */
   free(m.p);
}

/* -- ring -------------------------------------------------------------------------------- */

static void ring_session(struct buf *b, const struct chunks *c, uint32_t start)
{
   put8(b, 12); /* 1 << (4 + 12) = 64 KiB buffer */
   put8(b, 1);  /* 4-byte extra region */
   put8(b, 1);  /* monitored */
   put8(b, 1);  /* idleTimeout 1 ms, as Mesa */
   put32(b, start);
   for (size_t i = 0; i < c->count; i++) {
      if (c->size[i] > 0xffff)
         continue;
      put8(b, 0);
      put16(b, (uint16_t)c->size[i]);
      put(b, c->data + c->off[i], c->size[i]);
   }
}

int main(int argc, char **argv)
{
   if (argc < 4) {
      fprintf(stderr, "usage: fuzz_make_seeds decoder|vtest|render_server|ring OUTDIR "
                      "FILE.vnr...\n");
      return 1;
   }
   const char *target = argv[1], *dir = argv[2];
   static struct chunks c;
   for (int a = 3; a < argc; a++) {
      read_chunks(argv[a], &c);
      struct buf b = { 0 };
      char suffix[32];
      if (!strcmp(target, "decoder")) {
         for (size_t i = 0; i < c.count; i++) {
            b.len = 0;
            put(&b, c.data + c.off[i], c.size[i]);
            snprintf(suffix, sizeof(suffix), "-%zu", i);
            write_seed(dir, argv[a], suffix, &b);
            put8(&b, 0);
            snprintf(suffix, sizeof(suffix), "-%zu-mesa25", i);
            write_seed(dir, argv[a], suffix, &b);
         }
         b.len = 0;
         for (size_t i = 0; i < c.count; i++)
            put(&b, c.data + c.off[i], c.size[i]);
         write_seed(dir, argv[a], "-all", &b);
         put8(&b, 0);
         write_seed(dir, argv[a], "-all-mesa25", &b);
      } else if (!strcmp(target, "vtest")) {
         vt_session(&b, &c, 0, c.count);
         write_seed(dir, argv[a], "-all", &b);
         for (size_t i = 0; i < c.count && i < 32; i++) {
            b.len = 0;
            vt_session(&b, &c, i, i + 1);
            snprintf(suffix, sizeof(suffix), "-%zu", i);
            write_seed(dir, argv[a], suffix, &b);
         }
      } else if (!strcmp(target, "render_server")) {
         rs_session(&b, &c);
         write_seed(dir, argv[a], "", &b);
      } else if (!strcmp(target, "ring")) {
         ring_session(&b, &c, 0);
         write_seed(dir, argv[a], "-0", &b);
         b.len = 0;
         ring_session(&b, &c, 0xffffff00u);
         write_seed(dir, argv[a], "-wrap", &b);
      } else {
         fprintf(stderr, "fuzz_make_seeds: unknown target '%s'\n", target);
         return 1;
      }
      free(b.p);
      free(c.data);
   }
   return 0;
}
