// Package maven is the Java ecosystem: Maven artifacts found in jar, war
// and ear archives (META-INF/maven/**/pom.properties, MANIFEST.MF when an
// archive has no pom, nested archives such as Spring Boot's BOOT-INF/lib
// and wars' WEB-INF/lib to a bounded depth, every artifact a shaded jar
// holds), ordered as Maven's ComparableVersion orders versions.
package maven
