# Runs a bench firmware under the agn_icount plugin and prints its instructions per stage.
#   cmake -DQEMU=... -DELF=... -DPLUGIN=... -DPLUGIN_OUT=... -DSTAGES="1=name,..."
#         [-DPER=n -DPER_UNIT=unit] [-DMODEL=model.agnm] -P report_stages.cmake
# MODEL: a model file QEMU preloads into the flash model slot (firmware/bsp/board.h).
set(model_args)
if(MODEL)
  set(model_args -device loader,file=${MODEL},addr=0xC0000,force-raw=on)
endif()
execute_process(
  COMMAND ${QEMU} -M mps2-an500 -display none -monitor none -serial stdio
          -semihosting-config enable=on,target=native -kernel ${ELF} ${model_args}
          -plugin ${PLUGIN},out=${PLUGIN_OUT}
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${ELF} failed (status ${status})")
endif()
file(READ ${PLUGIN_OUT} json)
string(REPLACE "," ";" stages "${STAGES}")
foreach(pair IN LISTS stages)
  string(REPLACE "=" ";" pair "${pair}")
  list(GET pair 0 stage)
  list(GET pair 1 name)
  string(JSON n GET "${json}" stages ${stage})
  set(line "${name}: ${n} instructions")
  if(PER)
    math(EXPR whole "${n} / ${PER}")
    math(EXPR tenths "(${n} * 10 / ${PER}) % 10")
    string(APPEND line " (${whole}.${tenths} per ${PER_UNIT})")
  endif()
  message("${line}")
endforeach()
