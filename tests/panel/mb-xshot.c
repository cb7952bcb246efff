/* mb-xshot: saves the X screen (root window) of $DISPLAY as a PNG.
 *
 *   mb-xshot OUT.png
 *
 * What a viewer would see, window manager or not: the test's proof that
 * the panel rendered. */
#include <X11/Xlib.h>
#include <cairo-xlib.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
    Display *display;
    cairo_surface_t *screen, *copy;
    cairo_status_t status;
    cairo_t *cr;
    int s, width, height;

    if (argc != 2) {
        fprintf(stderr, "usage: mb-xshot OUT.png\n");
        return 2;
    }
    display = XOpenDisplay(NULL);
    if (display == NULL) {
        fprintf(stderr, "mb-xshot: cannot open display %s\n", XDisplayName(NULL));
        return 1;
    }
    s = DefaultScreen(display);
    width = DisplayWidth(display, s);
    height = DisplayHeight(display, s);
    screen = cairo_xlib_surface_create(display, RootWindow(display, s),
                                       DefaultVisual(display, s), width, height);
    /* Copy to an image first: PNG wants plain RGB24 pixels. */
    copy = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cr = cairo_create(copy);
    cairo_set_source_surface(cr, screen, 0, 0);
    cairo_paint(cr);
    cairo_destroy(cr);
    status = cairo_surface_write_to_png(copy, argv[1]);
    cairo_surface_destroy(copy);
    cairo_surface_destroy(screen);
    XCloseDisplay(display);
    if (status != CAIRO_STATUS_SUCCESS) {
        fprintf(stderr, "mb-xshot: %s: %s\n", argv[1], cairo_status_to_string(status));
        return 1;
    }
    printf("%s: %dx%d\n", argv[1], width, height);
    return 0;
}
