/* A stand-in for Windows 10's bcryptprimitives.dll, which Wine 8.0 lacks and Rust's standard
 * library imports (ProcessPrng) for its random hash seeds. For running the test suite under
 * Wine only: it is built into target/ by tools/wine/run and never shipped. */
#include <windows.h>

/* RtlGenRandom, exported by advapi32 under this name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
