/* safetensors_file.h - writing a safetensors file in two steps, so that
 * several files can be made durable before any is put in place (model.c's
 * model + checkpoint pairs). Internal, never installed. */
#ifndef DN_SAFETENSORS_FILE_H
#define DN_SAFETENSORS_FILE_H

#include "digitnet/safetensors.h"
#include "fileio.h"

/* Everything dn_safetensors_write does except the final rename: on success
 * the file is complete and on disk beside path, and f must be published
 * (dn_atomic_file_publish) or aborted. On failure f needs nothing. */
dn_status dn_safetensors_write_unpublished(const dn_safetensors *st, const char *path, dn_atomic_file *f);

#endif
