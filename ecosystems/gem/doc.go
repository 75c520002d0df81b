// Package gem is the Ruby ecosystem: installed gems found by their
// specifications/*.gemspec files (read as text, never evaluated) and
// Gemfile.lock, ordered as RubyGems' Gem::Version orders them
// (aquasecurity's go-gem-version, checked against RubyGems' own cases).
package gem
