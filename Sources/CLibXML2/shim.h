// libxml2's SAX2 parser, for the XML import formats (Sources/SluiceImport/Folder/XMLTree.swift).
#ifndef SLUICE_CLIBXML2_SHIM_H
#define SLUICE_CLIBXML2_SHIM_H

// Debian builds libxml2 with ICU, and its encoding header then includes the system's ICU
// headers, whose `UErrorCode` clashes with the one Foundation's own ICU module declares in
// every Swift module importing both. Sluice uses no ICU part of libxml2: the only declarations
// this removes are two pointers at the end of `xmlCharEncodingHandler`, a struct Sluice never
// reads into (libxml2 itself, compiled with them, is unchanged).
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#endif
