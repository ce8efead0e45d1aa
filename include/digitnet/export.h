/* digitnet/export.h - DN_API marks the functions libdigitnet exports. The
 * library is built with every other symbol hidden, so a program linking the
 * shared library sees exactly the documented dn_ API and nothing else. */
#ifndef DIGITNET_EXPORT_H
#define DIGITNET_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define DN_API __attribute__((visibility("default")))
#else
#define DN_API
#endif

#endif
