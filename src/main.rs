fn main() {
    std::process::exit(novasim::cli::main_with_args(std::env::args_os()));
}
