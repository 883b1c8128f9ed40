// Command rfadesk runs a school-software supplier's service desk from its
// support mailbox and its staff chat.
package main

func main() {}
