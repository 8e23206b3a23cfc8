// libxml2's SAX2 parser, for the XML import formats (Sources/SluiceImport/Folder/XMLTree.swift).
#ifndef SLUICE_CLIBXML2_SHIM_H
#define SLUICE_CLIBXML2_SHIM_H

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#endif
