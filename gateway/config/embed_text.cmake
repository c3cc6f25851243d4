# Writes a C++ file defining one text file's content as a string (script mode):
#   cmake -DIN=file -DOUT=file.cpp -DNAMESPACE=promptwall::gateway -DSYMBOL=kName -P embed_text.cmake
# defines `extern const char SYMBOL[]` in NAMESPACE, the file verbatim (as rules/embed_packs.cmake
# does for the packs). Rewrites OUT only when it changes, so an unchanged file recompiles nothing.
file(READ "${IN}" content)
string(FIND "${content}" ")PWTEXT\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the embedding delimiter )PWTEXT\"")
endif()
file(RELATIVE_PATH source "${CMAKE_CURRENT_LIST_DIR}/../.." "${IN}")
set(body "// Generated from ${source} by gateway/config/embed_text.cmake. Do not edit.\n")
string(APPEND body "namespace ${NAMESPACE} {\nextern const char ${SYMBOL}[];\n")
string(APPEND body "const char ${SYMBOL}[] = R\"PWTEXT(${content})PWTEXT\";\n}  // namespace ${NAMESPACE}\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
