/* digitnet.h - the whole public API of libdigitnet in one include.
 *
 * Conventions every header in digitnet/ follows; a function's own comment
 * adds to them or says where it differs. examples/ holds small programs
 * that use them.
 *
 * Errors. A function that can fail returns dn_status (digitnet/status.h):
 * DN_OK, which is 0, or a DN_ERR_ code, and on failure records a one-line
 * message saying what failed and why, read with dn_last_error() on the same
 * thread. Each comment names the codes a function returns for what it is
 * given (DN_ERR_ARG for a bad argument, DN_ERR_FORMAT for malformed bytes,
 * ...); besides those, any function that allocates may return DN_ERR_NOMEM.
 * On failure its outputs are left empty (a NULL object pointer, a zeroed
 * struct) unless its comment says otherwise, so the matching release
 * function is always safe to call. Functions that return void or a value
 * cannot fail: they take their arguments as valid (sizes, indices in range,
 * pointers not NULL unless the comment allows it), check little or nothing,
 * and treat anything else as a programming error. The library never prints,
 * exits or aborts because of its input.
 *
 * Ownership. An object a function creates for the caller (dn_net **,
 * dn_image *, dn_dataset *, ...) is the caller's, released with its
 * function (dn_net_free, dn_image_free, dn_dataset_free, ...), each of which
 * accepts NULL or an emptied object and does nothing with it. A plain buffer
 * handed out through a uint8_t ** is released with dn_free (digitnet/memory.h),
 * never free(). A pointer a function returns into an object (a spec string,
 * logits, a tensor view) belongs to that object: it stays valid until the
 * object is freed, or until its next call where the comment says so, and
 * the caller never frees it. Constant strings (status and kind names) are
 * static. Pointers passed in are borrowed for the call only and copied when
 * kept, except where a comment says otherwise (dn_net_forward's input until
 * dn_net_backward, a probe's net, a tensor view's buffer).
 *
 * Thread-safety. The library keeps no mutable global state (the error
 * message is per thread, random generators are passed in), so calls on
 * different objects may run in any threads at once. On one object, calls
 * that take it as a const pointer only read it and may run at the same
 * time as each other; a call that takes it as a non-const pointer must not
 * overlap with any other call on it. Each header's "Thread-safety:"
 * paragraph repeats the rule for its objects and names the exceptions (a
 * probe reads a net while the net predicts). Heavy functions compute with
 * OpenMP threads inside the call and give bit-identical results for any
 * thread count; a program need not be compiled with OpenMP to use them. */
#ifndef DIGITNET_H
#define DIGITNET_H

#include "digitnet/export.h"
#include "digitnet/version.h"
#include "digitnet/status.h"
#include "digitnet/memory.h"
#include "digitnet/clock.h"
#include "digitnet/threads.h"
#include "digitnet/tensor.h"
#include "digitnet/rng.h"
#include "digitnet/ops.h"
#include "digitnet/net.h"
#include "digitnet/probe.h"
#include "digitnet/optim.h"
#include "digitnet/idx.h"
#include "digitnet/model.h"
#include "digitnet/onnx.h"
#include "digitnet/train.h"
#include "digitnet/answer.h"
#include "digitnet/safetensors.h"
#include "digitnet/json.h"
#include "digitnet/gzip.h"
#include "digitnet/image.h"
#include "digitnet/synth.h"
#include "digitnet/number.h"

#endif
