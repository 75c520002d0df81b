// Package rebuild composes module images from RPMs. FromRecipe has dnf
// resolve a module's recipe (module.Build) against an empty root and its
// own repositories only, verifies every downloaded package file with
// go-rpmutils, and has rpm install exactly those files into another empty
// root, so that the image's rpm database owns every file. Compose does
// the same from package files at hand. The root becomes the image's one
// layer, packed deterministically: the same packages give the same image
// digest. Rebuilding a module with fixed packages is composing it again.
package rebuild
