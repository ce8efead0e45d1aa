# train_models.cmake - run with cmake -P by ctest: trains the small CNN and MLP
# the server tests use into OUT, unless they are there already. Without the
# MNIST files in DATA it does nothing (the tests then skip themselves).
# Inputs: TRAIN (the dn-train executable), DATA, OUT.
if(NOT EXISTS ${DATA}/train-images-idx3-ubyte AND NOT EXISTS ${DATA}/train-images-idx3-ubyte.gz)
  message(STATUS "no MNIST in ${DATA}: not training (bash datasets/fetch-mnist.sh fetches it)")
  return()
endif()
file(MAKE_DIRECTORY ${OUT})
foreach(model mlp cnn)
  if(EXISTS ${OUT}/${model}.safetensors)
    message(STATUS "${OUT}/${model}.safetensors exists")
    continue()
  endif()
  # One epoch on everything (MNIST with the drawn digits and non-digits
  # dn-train adds): the tests check answers and refusals, which a model
  # trained on a fifth of the data gets wrong too often.
  set(extra "")
  execute_process(COMMAND ${TRAIN} --model ${model} --epochs 1 ${extra} --quiet --data ${DATA}
                          --out ${OUT}/${model}.safetensors
                          --checkpoint ${OUT}/${model}.ckpt.safetensors
                  RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "training the ${model} failed (${result})")
  endif()
endforeach()
