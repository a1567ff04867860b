#!/usr/bin/env python3
"""Python reference for the ParMap benchmark: multiprocessing.Pool(2).imap (chunksize 10,000)
over the lines of INPUT, each parsed with float(), passed to SYMBOL of LIB through ctypes
(double -> double), printed with repr() (shortest round-trip) to OUTPUT, in input order.

    py_imap.py LIB SYMBOL INPUT OUTPUT      prints "items=N seconds=S rate=R"
"""
import ctypes
import multiprocessing
import sys
import time

FN = None


def init(lib, symbol):
    global FN
    FN = getattr(ctypes.CDLL(lib), symbol)
    FN.restype = ctypes.c_double
    FN.argtypes = [ctypes.c_double]


def call(line):
    return repr(FN(float(line)))


def main():
    lib, symbol, inp, outp = sys.argv[1:5]
    with multiprocessing.Pool(2, initializer=init, initargs=(lib, symbol)) as pool:
        pool.map(abs, [1, 2])  # started before the clock
        start = time.perf_counter()
        n = 0
        with open(inp) as src, open(outp, "w") as dst:
            for result in pool.imap(call, src, chunksize=10000):
                dst.write(result)
                dst.write("\n")
                n += 1
        seconds = time.perf_counter() - start
    print(f"items={n} seconds={seconds:.3f} rate={n / seconds:.0f}")


if __name__ == "__main__":
    main()
