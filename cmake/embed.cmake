# Turns a file into a C array: cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed.cmake
# (the dashboard's page lives in src/dashboard.html, edited as HTML).
file(READ ${IN} HEX HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," BYTES "${HEX}")
file(WRITE ${OUT} "/* Generated from ${IN} by cmake/embed.cmake. */\n#include <stddef.h>\n"
  "const unsigned char ${NAME}[] = {${BYTES} 0};\n"
  "const size_t ${NAME}_len = sizeof(${NAME}) - 1;\n")
