// Prints tests/vectors/pcg32.txt from the PCG reference library (Debian: libpcg-cpp-dev),
// independently of rlgf's own PCG32 (sim/base/rng.c), which tests/test_rng.c checks against it:
//   g++ -O1 -o /tmp/gen tools/gen_pcg32_vectors.cpp && /tmp/gen > tests/vectors/pcg32.txt
#include <pcg_random.hpp>

#include <cstdint>
#include <cstdio>

int main() {
    const unsigned long long keys[4][2] = {
        {42u, 54u}, {0u, 0u}, {12345u, 678u}, {16045690984503111693ull, 81985529216486895ull}};
    const uint32_t bounds[5] = {1u, 6u, 1000u, 2147483649u, 4294967295u};
    std::printf("# pcg32 = setseq XSH-RR 64/32 (pcg32(seed, stream) as in the PCG reference library)\n");
    std::printf("# lines: seed stream kind index value\n");
    for (const auto &k : keys) {
        const unsigned long long s = k[0], t = k[1];
        {
            pcg32 r(s, t);
            for (int i = 0; i < 32; i++) std::printf("%llu %llu next %d %u\n", s, t, i, (unsigned)r());
        }
        {
            pcg32 r(s, t); // one generator, asked for bounded draws in file order; index counts them
            int n = 0;
            for (uint32_t b : bounds)
                for (int i = 0; i < 8; i++, n++) std::printf("%llu %llu bounded_%u %d %u\n", s, t, b, n, (unsigned)r(b));
        }
        {
            pcg32 r(s, t);
            r.advance(1000000);
            for (int i = 0; i < 8; i++) std::printf("%llu %llu after_advance_1000000 %d %u\n", s, t, i, (unsigned)r());
        }
        {
            pcg32 r(s, t);
            r.backstep(5);
            for (int i = 0; i < 8; i++) std::printf("%llu %llu after_backstep_5 %d %u\n", s, t, i, (unsigned)r());
        }
    }
    return 0;
}
