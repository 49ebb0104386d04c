/// mimalloc rather than the system allocator: see its entry in Cargo.toml.
#[global_allocator]
static ALLOCATOR: novasim::alloc::MiMalloc = novasim::alloc::MiMalloc;

fn main() {
    std::process::exit(novasim::cli::main_with_args(std::env::args_os()));
}
