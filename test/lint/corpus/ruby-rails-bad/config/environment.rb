require_relative 'application'
