package dev.pekkodsm.samples.gemm;

/**
 * What one system did in one run. {@code bytesMoved} and {@code messages} are {@code -1} where the
 * system cannot count them.
 *
 * @param system the system's name
 * @param nodes nodes of the run ({@code local} runs in one JVM whatever their number)
 * @param size rows (and columns) of each matrix
 * @param tile rows (and columns) of each tile
 * @param inputs what the inputs held ({@code random} or {@code ones})
 * @param seconds time to completion of the product
 * @param gflops nominal 2 n^3 floating-point operations per second (the same count for Strassen,
 *     which does fewer, so that the figures compare time)
 * @param bytesMoved bytes of tiles moved between nodes during the product
 * @param messages messages sent between nodes during the product (DSM protocol messages for
 *     pekko-dsm; requests and replies that crossed nodes for the peers)
 * @param freivaldsMaxError the largest |A(Bx) - Cx| over the check's random integer vector x
 * @param exactCellsChecked cells of C compared with their exact value
 * @param wrongCells those that differed
 * @param correct true when both checks passed
 */
public record GemmResult(
    String system,
    int nodes,
    int size,
    int tile,
    String inputs,
    double seconds,
    double gflops,
    long bytesMoved,
    long messages,
    double freivaldsMaxError,
    long exactCellsChecked,
    long wrongCells,
    boolean correct) {}
