/* digitnet.h - the whole public API of libdigitnet in one include. */
#ifndef DIGITNET_H
#define DIGITNET_H

#include "digitnet/export.h"
#include "digitnet/version.h"
#include "digitnet/status.h"
#include "digitnet/memory.h"
#include "digitnet/clock.h"
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
