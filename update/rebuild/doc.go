// Package rebuild composes module images from RPMs: the packages are
// installed by real rpm into an empty root, so that the image's rpm
// database owns every file, and the root becomes the image's one layer.
// Rebuilding a module with fixed packages is composing it again.
package rebuild
