// Package gem is the Ruby ecosystem: installed gems found by their
// specifications/*.gemspec files (read as text, never evaluated) and
// Gemfile.lock, ordered as RubyGems' Gem::Version orders them (checked
// against RubyGems' own cases and, with ruby installed, against ruby on
// 100,000 random pairs).
package gem
