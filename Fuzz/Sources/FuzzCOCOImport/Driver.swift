import FuzzDriver

@_cdecl("FuzzCOCOImport_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { fuzzCOCOImport($0, $1) }
}
