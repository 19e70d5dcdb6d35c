/* `venusd doctor`: checks, one by one, what venusd needs on this host (the Vulkan loader,
 * the ICD manifests and their libraries, an instance and its devices, the memory backend
 * of each device with a live host-pointer import, the vtest socket, a render-server
 * self-test, the protocol served) and says what to do about each failure.
 *
 * The report is a list of checks, each ok / warn / FAIL (or info) with a message, for a
 * failure what to do, and named fields for --json.  Text mode prints each check as it is
 * made; --json prints one JSON document at the end.  The exit status is 1 if any check
 * failed. */
#ifndef VD_DOCTOR_H
#define VD_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct vd_options;

struct vd_doctor_config {
   const char *socket_path;       /* the vtest socket to check */
   bool json;                     /* one JSON document on stdout instead of lines */
   const struct vd_options *opts; /* --memory, --host-pointer-alignment as vtest takes them */
   const char *self_exe;          /* venusd, run as the render server of the self-test */
};

/* Runs every check; returns the exit status (0: no failure, 1: at least one). */
int vd_doctor_run(const struct vd_doctor_config *cfg);

/* -- the report (doctor_report.c) -------------------------------------------------------- */

enum vd_doctor_status {
   VD_DOCTOR_INFO,
   VD_DOCTOR_OK,
   VD_DOCTOR_WARN,
   VD_DOCTOR_FAIL,
};

struct vd_doctor;
struct vd_doctor_check;

struct vd_doctor *vd_doctor_create(bool json);
void vd_doctor_destroy(struct vd_doctor *d);
/* Starts a section (a heading in text mode, the "section" of the following checks). */
void vd_doctor_section(struct vd_doctor *d, const char *name);
/* Adds a check named `name` (stable, for --json and tests) to the current section.  `fix`
 * (what to do) is required for WARN and FAIL.  Never returns NULL (on out of memory it
 * returns a check that is not kept, whose fields are dropped). */
struct vd_doctor_check *vd_doctor_add(struct vd_doctor *d, const char *name,
                                      enum vd_doctor_status status, const char *fix,
                                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void vd_doctor_field_str(struct vd_doctor_check *c, const char *key, const char *value);
void vd_doctor_field_int(struct vd_doctor_check *c, const char *key, int64_t value);
void vd_doctor_field_bool(struct vd_doctor_check *c, const char *key, bool value);
unsigned vd_doctor_failures(const struct vd_doctor *d);
/* Prints the summary line (text) or the whole document (--json). */
void vd_doctor_finish(struct vd_doctor *d);

/* -- the sections ------------------------------------------------------------------------ */

/* doctor_icd.c: the loader and the ICD manifests it would read.  Returns whether a loader
 * was found. */
bool vd_doctor_check_loader(struct vd_doctor *d);
void vd_doctor_check_icds(struct vd_doctor *d);
/* doctor_vulkan.c: an instance, every device, its memory backend and host-pointer imports. */
void vd_doctor_check_vulkan(struct vd_doctor *d, const struct vd_doctor_config *cfg);
/* doctor_sockets.c: the vtest socket path and the render-server self-test. */
void vd_doctor_check_socket(struct vd_doctor *d, const char *path);
void vd_doctor_check_render_server(struct vd_doctor *d, const struct vd_doctor_config *cfg);

/* -- JSON (doctor_json.c) ---------------------------------------------------------------- */

/* Parses the JSON document `text` and copies the string value at `path` (object keys
 * joined with '.', e.g. "ICD.library_path") into out.  Returns 1 if found, 0 if the
 * document is valid but has no string there, -1 if it does not parse (err says where and
 * why: "line L, column C: ..."). */
int vd_json_find_string(const char *text, const char *path, char *out, size_t out_size, char *err,
                        size_t err_size);
/* Writes s as a JSON string literal, quotes included. */
void vd_json_write_string(FILE *f, const char *s);

#endif
