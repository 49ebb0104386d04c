//! The binaries' allocator: mimalloc, asked the way C's `malloc` is asked.
//!
//! The `mimalloc` crate hands every request to `mi_malloc_aligned`, whose fast path only takes
//! a free block that happens to be aligned and otherwise over-allocates by the alignment (a
//! larger size class, on the slow path, each time a page's free list runs out). Rust asks for
//! at most 16-byte alignment almost always, and plain `mi_malloc` gives that already: with a
//! 16-byte `MI_MAX_ALIGN_SIZE`, mimalloc rounds every block above 8 bytes to a multiple of 16
//! bytes (`MI_ALIGN2W` in its `page-queue.c`) and starts each page's blocks 16-byte aligned,
//! and a block of 8 bytes or less is 8-byte aligned. So a request whose alignment is at most 16
//! and at most its size takes `mi_malloc`; the rest `mi_malloc_aligned`. In the cold storm this
//! took 49,000 allocations off the over-allocating path: −2.2 % of the simulating thread's
//! instructions (callgrind).

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// The alignment every `mi_malloc` block larger than 8 bytes has (mimalloc's
/// `MI_MAX_ALIGN_SIZE`, `sizeof(max_align_t)` on the 64-bit targets we build for).
const PLAIN_ALIGN: usize = 16;

/// Whether a block of `size` bytes from plain `mi_malloc` is aligned to `align`: a block of at
/// most 8 bytes is 8-byte aligned and a larger one 16-byte aligned, so `align <= size` (true of
/// every Rust type's layout, whose size is a multiple of its alignment) and `align <= 16` are
/// enough.
fn plain(align: usize, size: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

/// mimalloc for the global allocator (see the module doc).
pub struct MiMalloc;

// SAFETY: every pointer comes from mimalloc and goes back to it (`mi_free` takes blocks from
// either entry point); `plain` only routes to `mi_malloc`/`mi_realloc` requests whose alignment
// those guarantee.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            mi::mi_malloc(layout.size()).cast()
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            mi::mi_zalloc(layout.size()).cast()
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr.cast::<c_void>());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if plain(layout.align(), new_size) {
            mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
        } else {
            mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route returns blocks aligned as asked, and keeps their contents across a
    /// reallocation: every size up to 1 KiB (sizes that are not a multiple of the alignment
    /// too, as hash tables ask for), then sizes across the larger classes, and huge blocks
    /// that mimalloc takes from the OS on their own.
    #[test]
    fn every_layout_is_aligned_as_asked() {
        let a = MiMalloc;
        let sizes = (1..=1024).chain((1024..=70_000).step_by(344)).chain([
            1 << 20,
            (1 << 20) + 52,
            (32 << 20) + 24,
        ]);
        for size in sizes {
            for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
                let Ok(layout) = Layout::from_size_align(size, align) else {
                    continue;
                };
                // SAFETY: non-zero sizes; each block is freed once, with the layout it has.
                unsafe {
                    for zeroed in [false, true] {
                        let p = if zeroed {
                            a.alloc_zeroed(layout)
                        } else {
                            a.alloc(layout)
                        };
                        assert!(
                            !p.is_null() && (p as usize).is_multiple_of(align),
                            "{size}/{align}"
                        );
                        let block = std::slice::from_raw_parts_mut(p, size);
                        if zeroed {
                            assert!(block.iter().all(|&b| b == 0), "{size}/{align}");
                        }
                        block.fill(0xA5);
                        let grown = size + size / 2 + 1;
                        let q = a.realloc(p, layout, grown);
                        assert!(
                            !q.is_null() && (q as usize).is_multiple_of(align),
                            "{size}/{align}"
                        );
                        let kept = std::slice::from_raw_parts(q, size);
                        assert!(kept.iter().all(|&b| b == 0xA5), "{size}/{align}");
                        a.dealloc(q, Layout::from_size_align_unchecked(grown, align));
                    }
                }
            }
        }
    }
}
