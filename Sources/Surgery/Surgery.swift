// placeholder so the target builds; replaced as the module lands.
