import FuzzDriver

@_cdecl("FuzzJSONReader_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { fuzzJSONReader($0, $1) }
}
