// libxml2's streaming reader, for the XML import formats (Sources/SluiceImport/Folder/XMLTree.swift).
#ifndef SLUICE_CLIBXML2_SHIM_H
#define SLUICE_CLIBXML2_SHIM_H

#include <string.h>
#include <libxml/parser.h>
#include <libxml/xmlreader.h>

/// The first error a reader met. libxml2 otherwise prints every error on standard error; the
/// import's own refusal names the file and line instead.
typedef struct {
    int set;
    int line;
    char message[256];
} sluice_xml_fault;

// The error's const-ness differs across libxml2 releases; C converts, Swift would not.
static void sluice_xml_record(void *context, xmlErrorPtr error) {
    sluice_xml_fault *fault = context;
    if (fault->set || error == NULL || error->level < XML_ERR_ERROR) return;
    fault->set = 1;
    fault->line = error->line;
    strncpy(fault->message, error->message ? error->message : "not well-formed", sizeof fault->message - 1);
    fault->message[sizeof fault->message - 1] = 0;
    size_t length = strlen(fault->message);
    while (length > 0 && (fault->message[length - 1] == '\n' || fault->message[length - 1] == ' ')) {
        fault->message[--length] = 0;
    }
}

/// Sends `reader`'s errors to `fault` instead of standard error.
static inline void sluice_xml_record_faults(xmlTextReaderPtr reader, sluice_xml_fault *fault) {
    xmlTextReaderSetStructuredErrorHandler(reader, sluice_xml_record, fault);
}

/// Whether the document `reader` reads declares entities in its internal subset. Sluice reads
/// no entity but the five predefined ones and character references: a declared one could
/// expand without bound or name a file outside the import.
static inline int sluice_xml_declares_entities(xmlTextReaderPtr reader) {
    xmlDocPtr document = xmlTextReaderCurrentDoc(reader);
    return document != NULL && document->intSubset != NULL
        && (document->intSubset->entities != NULL || document->intSubset->pentities != NULL);
}

#endif
