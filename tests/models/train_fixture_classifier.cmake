# Trains the test suite's clean classifier afresh: 800 steps of the CNN on Fashion-MNIST
# (about 89% test accuracy), the judge of every generator test.
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${CLI} train --model classifier --dataset fashion-mnist --steps 800
                        --batch 128 --seed 1 --checkpoint-every 800 --out ${OUT}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "training the fixture classifier failed (${rc})")
endif()
