/* demo_image.S: embeds the built-in demo guest (guests/demo.S) in kvmrun. */
    .section .rodata
    .global demo_image, demo_image_end
demo_image:
    .incbin "demo.bin"
demo_image_end:
    .section .note.GNU-stack, "", @progbits
