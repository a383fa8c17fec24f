// No console window on Windows release builds.
#![cfg_attr(all(not(debug_assertions), windows), windows_subsystem = "windows")]

fn main() {
    #[cfg(target_os = "linux")]
    no_gdk_gl();
    latchkey_app::run();
}

/// GTK 3 on X11 sets up OpenGL when it opens the display, to choose GL-capable visuals. That
/// loads the system's GL driver (with Mesa's software driver, all of LLVM): about 50 MB resident
/// for a tray icon that never draws with GL. `GDK_GL=disable` skips it. The window still
/// renders: WebKit draws its pages in its own processes and does not need GDK's GL. A user who
/// set `GDK_GL` keeps their choice; `LATCHKEY_GDK_GL=1` leaves GL on.
#[cfg(target_os = "linux")]
fn no_gdk_gl() {
    if std::env::var_os("GDK_GL").is_some() || std::env::var_os("LATCHKEY_GDK_GL").is_some_and(|v| v == "1") {
        return;
    }
    // SAFETY: this is the first statement of `main`; no other thread exists yet that could read
    // or write the environment at the same time.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("GDK_GL", "disable");
    }
}
