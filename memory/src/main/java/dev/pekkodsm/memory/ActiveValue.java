package dev.pekkodsm.memory;

/**
 * What {@link SyncAccess#readActive} found in a two-slot cell: the cell's word, and of the value
 * slot the word selects, either that it holds the version the reader already has ({@code known},
 * nothing copied) or the status of the copy of its frame into the reader's buffer.
 *
 * @param word the cell's word when the slot was chosen
 * @param color the color of the frame in the chosen slot (0 to 2^32 - 1), or -1 if it holds no
 *     frame of the object
 * @param known true if {@code color} is the version the reader named: no frame was copied (the
 *     reader's buffer holds none)
 * @param status the status of the copy if not {@code known}; {@link ReadStatus#OK} if known
 */
public record ActiveValue(long word, long color, boolean known, ReadStatus status) {}
